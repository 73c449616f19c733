package main

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/c2clab/c2clab/features"
	"github.com/c2clab/c2clab/fixtures"
	"github.com/c2clab/c2clab/sim/lab"
	"github.com/c2clab/c2clab/sim/report"
	"github.com/c2clab/c2clab/steps"
)

type testFlags struct {
	tags, reportDir, featuresDir, fixturesDir, backend string
	containerBinary, agentCmd, agentImage              string
	agentEntrypoint                                    []string // --agent-image on kubernetes
	seed                                               int64
	concurrency                                        int
	kube                                               kubeFlags // --backend kubernetes
}

// concurrencyUsage is the --concurrency flag's help, the same for test and
// certify.
const concurrencyUsage = "scenarios run at once, after the timing-sensitive ones ran alone; 0: the backend's default (local and container 3, netns 2)"

// backendAll runs the suite on every backend, one after the other.
const backendAll = "all"

func newTestCmd() *cobra.Command {
	var f testFlags
	cmd := &cobra.Command{
		Use:   "test",
		Short: "Run the conformance suite and write JUnit, Cucumber JSON and HTML reports",
		Long: `Run the Gherkin conformance suite against real broker and agent processes.

Every scenario starts its own lab (broker, device services, agents), drives an
admin's connection through the relay and asserts what the admin's client, the
broker's User Status and User Activity, and the agents show. Scenarios are
tagged with requirement IDs (@HV-2, @SEG-4, ...); the run ends with a table of
every requirement of REQUIREMENTS.md and its verdict.

Backends (--backend):
  local      every node a process on its own loopback address; no privileges
  netns      a network namespace per machine on a CNI bridge; root, Linux
  container  a Docker container per node, from a FROM scratch image of a
             static c2clab binary built here; a Docker engine
  kubernetes a Pod per machine on the cluster --kubeconfig names (as kubectl
             finds it), from --image, which its nodes must hold
             (c2clab image save); this process must reach the Pods'
             addresses: run it on a node or inside the cluster network
  all        local, netns and container, one after the other, a report
             directory each
A backend this machine cannot run (netns without root, container without a
Docker engine) reports its scenarios as skipped, with the reason; so do
scenarios a backend cannot run (link impairments, DNS interception, and on
kubernetes those that read the nodes' /proc).

Reports go to --report (default ./c2clab-report; with --backend all, a
subdirectory per backend):
  junit.xml       for CI test tabs
  cucumber.json   for Cucumber tooling
  report.html     one self-contained page for people
  requirements.txt the per-requirement table

A vendor's agent runs the whole suite, not only the certification profile:
  --agent-cmd PATH    starts PATH agent --config FILE --ready-file FILE for
                      every agent (local and netns backends)
  --agent-image IMAGE runs a local Docker image's entrypoint the same way
                      (container backend; nothing is pulled), or on
                      --backend kubernetes an image the cluster's nodes
                      hold, with --agent-entrypoint PATH (a container of
                      it in each device's Pod; docs/NETWORK.md)
as docs/PROTOCOL.md section 12 describes. Scenarios that pin an agent of
their own (the reference agent as a yardstick, NET-3) still do; the
certification verdict comes only from c2clab certify (docs/CERTIFICATION.md).

Exit codes: 0 all scenarios passed, 1 a scenario failed, 2 bad input.`,
		Example: `  c2clab test                          # the whole suite, embedded features and fixtures
  c2clab test --tags '@HV-2,@HV-6'     # only the scenarios proving HV-2 or HV-6
  c2clab test --tags '@SEG && ~@SEG-5' # tag expressions: ',' or, '&&' and, '~' not
  c2clab test --features ./features --fixtures ./fixtures   # edited copies on disk
  sudo c2clab test --backend all       # loopback, namespaces and containers
  c2clab test --backend kubernetes --image c2clab/c2clab:dev --pull-policy Never --tags @HV
  c2clab test --agent-cmd /opt/acme/agent          # the whole suite with a vendor's agent
  c2clab test --agent-image acme/agent:4.5 --backend container`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runTest(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.tags, "tags", "", "godog tag expression: ',' or, '&&' and, '~' not, e.g. '@SEG && ~@SEG-5'")
	fl.StringVar(&f.reportDir, "report", "c2clab-report", "directory for junit.xml, cucumber.json, report.html")
	fl.StringVar(&f.featuresDir, "features", "", "read .feature files from this directory instead of the embedded ones")
	fl.StringVar(&f.fixturesDir, "fixtures", "", "read device and tenant fixtures from this directory instead of the embedded ones")
	fl.StringVar(&f.backend, "backend", lab.BackendLocal, "where nodes run: local, netns (root), container (Docker), kubernetes or all (the first three)")
	fl.StringVar(&f.containerBinary, "container-binary", "", "static c2clab binary for the container image (default: this one if static, else one built from the source tree it runs in)")
	fl.Int64Var(&f.seed, "seed", -1, "scenario order: -1 random (the seed is printed), 0 file order, N a fixed seed")
	fl.IntVar(&f.concurrency, "concurrency", 0, concurrencyUsage)
	fl.StringVar(&f.agentCmd, "agent-cmd", "", "run every agent as this program (a vendor's; local and netns backends)")
	fl.StringVar(&f.agentImage, "agent-image", "", "run every agent from this image (a vendor's): the local Docker engine's on the container backend, the cluster nodes' on kubernetes")
	fl.StringSliceVar(&f.agentEntrypoint, "agent-entrypoint", nil, "with --agent-image on kubernetes: the image's entrypoint, which the cluster does not tell (docker image inspect -f '{{json .Config.Entrypoint}}' IMAGE), words separated by commas")
	addKubeFlags(fl, &f.kube, true)
	return cmd
}

// testAgent checks --agent-cmd and --agent-image against the backends and
// puts the agent in cfg; it returns what the run reports about it.
func testAgent(f testFlags, backends []string) (func(*steps.Config), string, error) {
	none := func(*steps.Config) {}
	switch {
	case f.agentCmd != "" && f.agentImage != "":
		return none, "", errors.New("test: give --agent-cmd or --agent-image, not both")
	case f.agentCmd != "":
		for _, b := range backends {
			if b == lab.BackendContainer {
				return none, "", fmt.Errorf("test: --agent-cmd runs on --backend %s or %s, not %s (use --agent-image there)", lab.BackendLocal, lab.BackendNetns, b)
			}
		}
		id, err := connectorIdentity(certifyFlags{agentCmd: f.agentCmd})
		if err != nil {
			return none, "", fmt.Errorf("test: %w", err)
		}
		return func(c *steps.Config) { c.AgentCommand = []string{id.Command} }, fmt.Sprintf("agent under test: %s (SHA-256 %s)", id.Command, id.SHA256), nil
	case f.agentImage != "":
		if len(backends) != 1 || (backends[0] != lab.BackendContainer && backends[0] != lab.BackendKubernetes) {
			return none, "", fmt.Errorf("test: --agent-image runs on --backend %s or %s", lab.BackendContainer, lab.BackendKubernetes)
		}
		if backends[0] == lab.BackendKubernetes && len(f.agentEntrypoint) == 0 {
			return none, "", fmt.Errorf("test: --agent-image on --backend %s needs --agent-entrypoint: %w", lab.BackendKubernetes, lab.ErrNoAgentEntrypoint)
		}
		return func(c *steps.Config) { c.AgentImage, c.Kube.AgentEntrypoint = f.agentImage, f.agentEntrypoint },
			"agent under test: image " + f.agentImage, nil
	}
	return none, "", nil
}

func runTest(cmd *cobra.Command, f testFlags) error {
	backends, err := testBackends(f.backend)
	if err != nil {
		return badInput(err)
	}
	feats, fixt, err := suiteFS(f)
	if err != nil {
		return badInput(err)
	}
	if f.agentCmd != "" && f.backend == backendAll {
		backends = agentCommandBackends(backends)
	}
	if _, about, err := testAgent(f, backends); err != nil {
		return badInput(err)
	} else if about != "" {
		fmt.Fprintln(cmd.OutOrStdout(), about)
	}
	var failedOn []string
	summaries := make([]string, 0, len(backends))
	for _, b := range backends {
		bf := f
		bf.backend = b
		if len(backends) > 1 {
			bf.reportDir = filepath.Join(f.reportDir, b)
			fmt.Fprintf(cmd.OutOrStdout(), "=== backend %s (report in %s)\n", b, bf.reportDir)
		}
		res, err := runSuite(cmd, bf, feats, fixt)
		if err != nil {
			return err
		}
		summaries = append(summaries, fmt.Sprintf("%-9s %s", b, res.Summary()))
		if !res.OK() {
			failedOn = append(failedOn, b)
		}
	}
	if len(backends) > 1 {
		fmt.Fprintf(cmd.OutOrStdout(), "\n%s\n", strings.Join(summaries, "\n"))
	}
	if len(failedOn) > 0 {
		return failed(fmt.Errorf("test: scenarios failed on %s", strings.Join(failedOn, ", ")))
	}
	return nil
}

func testBackends(b string) ([]string, error) {
	switch b {
	case lab.BackendLocal, lab.BackendNetns, lab.BackendContainer, lab.BackendKubernetes:
		return []string{b}, nil
	case backendAll:
		// Not kubernetes: it needs a cluster and an image named.
		return []string{lab.BackendLocal, lab.BackendNetns, lab.BackendContainer}, nil
	}
	return nil, fmt.Errorf("test: --backend %q: want %s, %s, %s, %s or %s", b, lab.BackendLocal, lab.BackendNetns, lab.BackendContainer, lab.BackendKubernetes, backendAll)
}

// agentCommandBackends keeps those of backends that can start a vendor's
// agent command (--agent-cmd with --backend all).
func agentCommandBackends(backends []string) []string {
	return slices.DeleteFunc(slices.Clone(backends), func(b string) bool { return lab.Backend(b).Supports(lab.FeatureAgentCommand) != nil })
}

// runSuite runs the suite on f.backend and writes its reports.
func runSuite(cmd *cobra.Command, f testFlags, feats, fixt fs.FS) (steps.Result, error) {
	exe, err := os.Executable()
	if err != nil {
		return steps.Result{}, fmt.Errorf("test: %w", err)
	}
	cfg := steps.Config{Command: []string{exe, "node"}, Fixtures: fixt, LogDir: filepath.Join(f.reportDir, "logs"), Backend: f.backend}
	if f.backend == lab.BackendKubernetes {
		cfg.Kube = f.kube.spec()
	}
	useAgent, _, err := testAgent(f, []string{f.backend})
	if err != nil {
		return steps.Result{}, badInput(err)
	}
	useAgent(&cfg)
	if f.backend == lab.BackendContainer {
		bin, cleanup, err := containerBinary(cmd, exe, f.containerBinary)
		if err != nil {
			return steps.Result{}, err
		}
		defer cleanup()
		cfg.ContainerBinary = bin
	}
	start := time.Now()
	res, err := steps.Run(steps.RunOptions{
		Config:      cfg,
		Features:    feats,
		Tags:        f.tags,
		ReportDir:   f.reportDir,
		Output:      cmd.OutOrStdout(),
		Seed:        f.seed,
		Concurrency: cmp.Or(f.concurrency, steps.DefaultConcurrency(cfg.Backend)),
	})
	if err != nil {
		return res, badInput(err)
	}
	if res.GodogStatus == 2 {
		return res, badInput(errors.New("test: godog refused its options (see above)"))
	}
	return res, writeReports(cmd, f, res, time.Since(start))
}

func suiteFS(f testFlags) (feats, fixt fs.FS, err error) {
	feats, fixt = features.FS, fixtures.FS
	if f.featuresDir != "" {
		if _, err := os.Stat(f.featuresDir); err != nil {
			return nil, nil, fmt.Errorf("test: --features: %w", err)
		}
		feats = os.DirFS(f.featuresDir)
	}
	if f.fixturesDir != "" {
		if _, err := os.Stat(f.fixturesDir); err != nil {
			return nil, nil, fmt.Errorf("test: --fixtures: %w", err)
		}
		fixt = os.DirFS(f.fixturesDir)
	}
	return feats, fixt, nil
}

// writeReports turns the Cucumber JSON into the requirement table and the
// HTML page.
func writeReports(cmd *cobra.Command, f testFlags, res steps.Result, took time.Duration) error {
	data, err := os.ReadFile(filepath.Join(f.reportDir, "cucumber.json"))
	if err != nil {
		return fmt.Errorf("test: report: %w", err)
	}
	feats, err := report.ParseCucumber(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("test: report: %w", err)
	}
	cat, err := report.LoadCatalogue(features.Requirements)
	if err != nil {
		return fmt.Errorf("test: requirements catalogue: %w", err)
	}
	reqs := report.Requirements(feats, cat)
	var table bytes.Buffer
	report.WriteTable(&table, reqs)
	fmt.Fprintf(cmd.OutOrStdout(), "\n%s", table.String())
	if err := os.WriteFile(filepath.Join(f.reportDir, "requirements.txt"), table.Bytes(), 0o644); err != nil {
		return fmt.Errorf("test: report: %w", err)
	}
	if err := writeJUnit(f, feats); err != nil {
		return err
	}
	return writeHTML(f, feats, reqs, res, took)
}

func writeJUnit(f testFlags, feats []report.Feature) error {
	out, err := os.Create(filepath.Join(f.reportDir, "junit.xml"))
	if err != nil {
		return fmt.Errorf("test: report: %w", err)
	}
	defer out.Close()
	if err := report.WriteJUnit(out, "c2clab", feats); err != nil {
		return fmt.Errorf("test: report: %w", err)
	}
	return out.Close()
}

func writeHTML(f testFlags, feats []report.Feature, reqs []report.RequirementResult, res steps.Result, took time.Duration) error {
	out, err := os.Create(filepath.Join(f.reportDir, "report.html"))
	if err != nil {
		return fmt.Errorf("test: report: %w", err)
	}
	defer out.Close()
	meta := []report.Field{{Name: "Scenarios", Value: res.Summary()}}
	if f.tags != "" {
		meta = append(meta, report.Field{Name: "Tags", Value: f.tags})
	}
	if a := f.agentCmd + f.agentImage; a != "" {
		meta = append(meta, report.Field{Name: "Agent under test", Value: a})
	}
	for _, s := range res.Skips {
		meta = append(meta, report.Field{Name: "Skipped", Value: s})
	}
	err = report.WriteHTML(out, report.Summary{
		Version: c2clabVersion(), Backend: f.backend, Started: time.Now().Add(-took), Duration: took,
		Meta: meta, Features: feats, Requirements: reqs,
	})
	if err != nil {
		return fmt.Errorf("test: report: %w", err)
	}
	return out.Close()
}
