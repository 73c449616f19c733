package main

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/c2clab/c2clab/features"
	"github.com/c2clab/c2clab/fixtures"
	"github.com/c2clab/c2clab/sim/certify"
	"github.com/c2clab/c2clab/sim/image"
	"github.com/c2clab/c2clab/sim/lab"
	"github.com/c2clab/c2clab/sim/report"
	"github.com/c2clab/c2clab/steps"
)

type certifyFlags struct {
	agentCmd, agentImage, name, version, vendor, backend, reportDir string
	containerBinary                                                 string
	seed                                                            int64
}

func newCertifyCmd() *cobra.Command {
	var f certifyFlags
	cmd := &cobra.Command{
		Use:   "certify --agent-cmd PATH",
		Short: "Certify a client connector: run the certification profile with it on both ends and write a report",
		Long: `Run the scenarios of the connector certification profile with the agent
under test in place of the reference agent, on the admin's side and on every
device, and write a report a vendor can submit.

The lab starts the agent as
  PATH agent --config FILE --ready-file FILE
as docs/PROTOCOL.md section 12 describes; docs/CERTIFICATION.md is the guide.

The verdict is "Certified" only when every mandatory requirement of the
profile passed; a failed, skipped or missing mandatory requirement denies it,
and the report says which and why. Optional requirements are reported too.

Reports go to --report (default ./c2clab-certification):
  certification.json  for machines: verdict, identity, environment, per
                      requirement its scenarios and their evidence
  certification.html  the same for people
  junit.xml, cucumber.json

Exit codes: 0 certified, 1 not certified, 2 bad input.`,
		Example: `  go build -o c2clab-agent ./cmd/c2clab-agent     # the reference agent, as a vendor ships one
  c2clab certify --agent-cmd ./c2clab-agent --name c2clab-agent --version 1.0 --vendor c2clab
  sudo c2clab certify --agent-cmd /opt/acme/agent --vendor Acme --version 4.5.1 --backend netns`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runCertify(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.agentCmd, "agent-cmd", "", "the agent program under test (this or --agent-image)")
	fl.StringVar(&f.agentImage, "agent-image", "", "a local Docker image whose entrypoint is the agent under test; implies --backend container (nothing is pulled)")
	fl.StringVar(&f.name, "name", "", "the connector's name in the report (default: the program's file name)")
	fl.StringVar(&f.version, "version", "unknown", "the connector's version in the report")
	fl.StringVar(&f.vendor, "vendor", "unknown", "the connector's vendor in the report")
	fl.StringVar(&f.containerBinary, "container-binary", "", "with --agent-image: static c2clab binary for the lab's own image (default: this one if static, else one built from the source tree it runs in)")
	fl.StringVar(&f.backend, "backend", "", "where nodes run: local (default) or netns (root) with --agent-cmd; container with --agent-image")
	fl.StringVar(&f.reportDir, "report", "c2clab-certification", "directory for the reports")
	fl.Int64Var(&f.seed, "seed", -1, "scenario order: -1 random (the seed is printed), 0 file order, N a fixed seed")
	return cmd
}

func runCertify(cmd *cobra.Command, f certifyFlags) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("certify: %w", err)
	}
	cfg, id, cleanup, err := certifyConfig(cmd, &f, exe)
	if err != nil {
		return err
	}
	defer cleanup()
	prof := certify.Connector
	start := time.Now()
	res, err := steps.Run(steps.RunOptions{
		Config:   cfg,
		Features: features.FS, Tags: prof.Tags(), ReportDir: f.reportDir, Output: cmd.OutOrStdout(), Seed: f.seed,
	})
	if err != nil {
		return badInput(err)
	}
	rep, feats, cat, err := buildCertification(f, prof, id, start)
	if err != nil {
		return err
	}
	rep.Duration = time.Since(start)
	if err := writeCertification(f, rep, feats, cat); err != nil {
		return err
	}
	printCertification(cmd, rep, res)
	if rep.Verdict != certify.Certified {
		return failed(fmt.Errorf("certify: %s: %d mandatory requirements not met", rep.Verdict, len(rep.Denied)))
	}
	return nil
}

// certifyConfig checks the flags and returns the suite's config with the
// agent under test in place, and the agent's identity. cleanup removes the
// static c2clab binary it may have built for the container image.
func certifyConfig(cmd *cobra.Command, f *certifyFlags, exe string) (steps.Config, certify.Identity, func(), error) {
	none := func() {}
	cfg := steps.Config{Command: []string{exe, "node"}, Fixtures: fixtures.FS, LogDir: filepath.Join(f.reportDir, "logs")}
	if (f.agentCmd == "") == (f.agentImage == "") {
		return cfg, certify.Identity{}, none, badInput(errors.New("certify: give the agent under test as --agent-cmd PATH or --agent-image IMAGE (one of them)"))
	}
	if f.agentImage != "" {
		f.backend = cmp.Or(f.backend, lab.BackendContainer)
		if err := lab.Backend(f.backend).Supports(lab.FeatureAgentImage); err != nil {
			return cfg, certify.Identity{}, none, badInput(fmt.Errorf("certify: --agent-image: %w; want --backend container", err))
		}
		id, err := imageIdentity(cmd, *f)
		if err != nil {
			return cfg, id, none, err
		}
		bin, cleanup, err := containerBinary(cmd, exe, f.containerBinary)
		cfg.Backend, cfg.AgentImage, cfg.ContainerBinary = f.backend, f.agentImage, bin
		return cfg, id, cleanup, err
	}
	f.backend = cmp.Or(f.backend, lab.BackendLocal)
	if err := lab.Backend(f.backend).Supports(lab.FeatureAgentCommand); err != nil {
		return cfg, certify.Identity{}, none, badInput(fmt.Errorf("certify: --agent-cmd: %w; want --backend %s or %s", err, lab.BackendLocal, lab.BackendNetns))
	}
	id, err := connectorIdentity(*f)
	if err != nil {
		return cfg, id, none, badInput(err)
	}
	cfg.Backend, cfg.AgentCommand = f.backend, []string{id.Command}
	return cfg, id, none, nil
}

// imageIdentity names an agent image by its ID, which hashes its content.
func imageIdentity(cmd *cobra.Command, f certifyFlags) (certify.Identity, error) {
	prov, err := image.Connect(cmd.Context())
	if err != nil {
		return certify.Identity{}, fmt.Errorf("certify: --agent-image: %w", err)
	}
	id, err := image.ID(cmd.Context(), prov, f.agentImage)
	if err != nil {
		return certify.Identity{}, badInput(fmt.Errorf("certify: --agent-image: not on the Docker engine (nothing is pulled): %w", err))
	}
	return certify.Identity{Name: cmp.Or(f.name, f.agentImage), Version: f.version, Vendor: f.vendor,
		Command: f.agentImage, SHA256: strings.TrimPrefix(id, "sha256:")}, nil
}

// connectorIdentity resolves the agent program and hashes it.
func connectorIdentity(f certifyFlags) (certify.Identity, error) {
	path, err := exec.LookPath(f.agentCmd)
	if err != nil {
		return certify.Identity{}, fmt.Errorf("certify: --agent-cmd %q: %w", f.agentCmd, err)
	}
	if path, err = filepath.Abs(path); err != nil {
		return certify.Identity{}, fmt.Errorf("certify: --agent-cmd: %w", err)
	}
	sum, err := certify.FileSHA256(path)
	if err != nil {
		return certify.Identity{}, fmt.Errorf("certify: --agent-cmd: %w", err)
	}
	name := f.name
	if name == "" {
		name = filepath.Base(path)
	}
	return certify.Identity{Name: name, Version: f.version, Vendor: f.vendor, Command: path, SHA256: sum}, nil
}

func buildCertification(f certifyFlags, prof certify.Profile, id certify.Identity, start time.Time) (certify.Report, []report.Feature, []report.Requirement, error) {
	data, err := os.ReadFile(filepath.Join(f.reportDir, "cucumber.json"))
	if err != nil {
		return certify.Report{}, nil, nil, fmt.Errorf("certify: %w", err)
	}
	feats, err := report.ParseCucumber(bytes.NewReader(data))
	if err != nil {
		return certify.Report{}, nil, nil, fmt.Errorf("certify: %w", err)
	}
	cat, err := report.LoadCatalogue(features.Requirements)
	if err != nil {
		return certify.Report{}, nil, nil, fmt.Errorf("certify: requirements catalogue: %w", err)
	}
	fsum, err := certify.FeaturesSHA256(features.FS)
	if err != nil {
		return certify.Report{}, nil, nil, fmt.Errorf("certify: %w", err)
	}
	verdict, denied, results := certify.Judge(prof, feats, cat)
	return certify.Report{
		Verdict: verdict, Denied: denied, Connector: id,
		Suite:       certify.Suite{Version: c2clabVersion(), FeaturesSHA256: fsum, Profile: prof.Name, Backend: f.backend},
		Environment: environment(), Started: start, Requirements: results,
	}, feats, cat, nil
}

func environment() certify.Environment {
	env := certify.Environment{OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU(), GoVersion: runtime.Version()}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		env.Kernel = unix.ByteSliceToString(u.Release[:])
	}
	return env
}

func writeCertification(f certifyFlags, rep certify.Report, feats []report.Feature, cat []report.Requirement) error {
	write := func(name string, fn func(*os.File) error) error {
		out, err := os.Create(filepath.Join(f.reportDir, name))
		if err != nil {
			return fmt.Errorf("certify: %w", err)
		}
		defer out.Close()
		if err := fn(out); err != nil {
			return err
		}
		return out.Close()
	}
	if err := write("certification.json", func(o *os.File) error { return rep.WriteJSON(o) }); err != nil {
		return err
	}
	if err := write("certification.html", func(o *os.File) error { return rep.WriteHTML(o, feats, cat) }); err != nil {
		return err
	}
	return write("junit.xml", func(o *os.File) error { return report.WriteJUnit(o, "c2clab certification", feats) })
}

func printCertification(cmd *cobra.Command, rep certify.Report, res steps.Result) {
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "\n%s %s (%s), sha256 %s\n", rep.Connector.Name, rep.Connector.Version, rep.Connector.Vendor, rep.Connector.SHA256)
	for _, r := range rep.Requirements {
		kind := "optional "
		if r.Mandatory {
			kind = "mandatory"
		}
		fmt.Fprintf(w, "  %-6s %s  %-7s  %s\n", r.ID, kind, r.Verdict, r.Why)
	}
	fmt.Fprintf(w, "scenarios: %s\n", res.Summary())
	fmt.Fprintf(w, "verdict: %s\n", rep.Verdict)
	for _, d := range rep.Denied {
		fmt.Fprintf(w, "  denied by %s\n", strings.TrimSpace(d))
	}
}
