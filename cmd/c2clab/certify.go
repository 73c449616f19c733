package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
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
	url, contact, containerBinary, nodeCmd                          string
	seed                                                            int64
	concurrency                                                     int
	kube                                                            kubeFlags // --backend kubernetes
	agentEntrypoint, requirements                                   []string
	// ran collects the agent images the cluster ran (kubernetes only).
	ran *ranImages
}

func newCertifyCmd() *cobra.Command {
	var f certifyFlags
	cmd := &cobra.Command{
		Use:   "certify --agent-cmd PATH",
		Short: "Certify a client connector: run the certification profile with it on both ends and paired with the reference agent, and write a report",
		Long: `Run the scenarios of the connector certification profile with the agent
under test (T) in place of the reference agent (R), and judge it requirement
by requirement. Three pairings, source first:
  T->T  T on the admins' machines and on every device: every profile scenario
  T->R  T as source, R as destination  \  every scenario that carried a
  R->T  R as source, T as destination  /  connection in T->T
A requirement passes only when every pairing of every one of its scenarios
passed; CERT-1 passes when every T->R and R->T scenario did. So an agent
that is wrong the same way on both ends, and talks only to itself, is not
certified. NET-3 judges T's relay against R's measured interleaved on the
same path in the same scenario (docs/CERTIFICATION.md section 5).

The lab starts the agent as
  PATH agent --config FILE --ready-file FILE
as docs/PROTOCOL.md section 12 describes; docs/CERTIFICATION.md is the guide.

Where the agent runs (--backend):
  local, netns  --agent-cmd PATH, a program on this host (netns: root)
  container     --agent-image IMAGE, on the local Docker engine (nothing is
                pulled): a container of it per agent, its entrypoint given
                the arguments above; the report names it by its image ID
  kubernetes    --agent-image IMAGE --agent-entrypoint PATH, on the cluster
                --kubeconfig names, whose nodes hold IMAGE and the c2clab
                --image (c2clab image save; ctr images import or kind load
                image-archive): a device whose agent is under test gets a
                container of IMAGE in its Pod, and the lab runs PATH with
                the arguments above in that container's file system
                (docs/NETWORK.md, Kubernetes); the report names the image
                by the ID the kubelet reports it ran, and refuses to name
                one when no container of it ran or several different ones
                did (exit 1)

--requirements ID,... judges only those requirements of the profile (and
CERT-1), running only their scenarios: a shorter run, e.g. on a cluster.
Its report names the subset as its profile, and certify verify refuses it
as a certification of the whole profile.

The verdict is "Certified" only when every mandatory requirement of the
profile passed; a failed, skipped or missing mandatory requirement denies it,
and the report says which and why. Optional requirements are reported too.

Reports go to --report (default ./c2clab-certification):
  certification.json  for machines: verdict, product (--vendor, --product,
                      --version, --url, --contact), mode, c2clab version and
                      suite hash, environment, pairings, per requirement its
                      scenarios with their pairing and evidence, and the
                      command that reproduces the run
  certification.html  the same for people
  junit.xml           every scenario of every pairing
  T-T/ T-R/ R-T/      each pairing's cucumber.json and failed scenarios' logs
Check a report with: c2clab certify verify REPORT.json

Exit codes: 0 certified, 1 not certified, 2 bad input.`,
		Example: `  go build -o c2clab-agent ./cmd/c2clab-agent     # the reference agent, as a vendor ships one
  c2clab certify --agent-cmd ./c2clab-agent --product c2clab-agent --version 1.0 --vendor c2clab
  sudo c2clab certify --agent-cmd /opt/acme/agent --vendor Acme --product "Acme Connector" --version 4.5.1 \\
      --url https://acme.example/connector --contact cert@acme.example --backend netns
  c2clab certify --agent-image acme/agent:4.5.1 --backend kubernetes --agent-entrypoint /opt/acme/agent \\
      --image c2clab.local/c2clab:dev --pull-policy Never --vendor Acme --version 4.5.1
  c2clab certify verify c2clab-certification/certification.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runCertify(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.agentCmd, "agent-cmd", "", "the agent program under test (this or --agent-image)")
	fl.StringVar(&f.agentImage, "agent-image", "", "an image whose entrypoint is the agent under test: on the local Docker engine for --backend container (the default with it; nothing is pulled), on the cluster's nodes for --backend kubernetes")
	fl.StringSliceVar(&f.agentEntrypoint, "agent-entrypoint", nil, "with --agent-image on --backend kubernetes: the image's entrypoint (the cluster does not tell it; docker image inspect -f '{{json .Config.Entrypoint}}' IMAGE shows it), words separated by commas")
	fl.StringSliceVar(&f.requirements, "requirements", nil, "judge only these requirements of the profile (and CERT-1), running only their scenarios, e.g. HV-5,DEV-6; the report names the subset")
	fl.StringVar(&f.name, "product", "", "the connector's product name in the report (default: the program's file name)")
	fl.StringVar(&f.name, "name", "", "same as --product")
	fl.StringVar(&f.url, "url", "", "the product's web page, in the report")
	fl.StringVar(&f.contact, "contact", "", "who answers for the product (e-mail), in the report")
	fl.StringVar(&f.version, "version", "unknown", "the connector's version in the report")
	fl.StringVar(&f.vendor, "vendor", "unknown", "the connector's vendor in the report")
	fl.StringVar(&f.containerBinary, "container-binary", "", "with --agent-image: static c2clab binary for the lab's own image (default: this one if static, else one built from the source tree it runs in)")
	fl.StringVar(&f.nodeCmd, "node-cmd", "", "with --agent-cmd: the program that runs the lab's other nodes (broker, reference agents, services) as PATH ROLE --config FILE --ready-file FILE, e.g. a build of ./cmd/c2clab-node, which starts in a tenth of the CPU c2clab takes (default: c2clab node)")
	fl.StringVar(&f.backend, "backend", "", "where nodes run: local (default) or netns (root) with --agent-cmd; container (default) or kubernetes with --agent-image")
	addKubeFlags(fl, &f.kube, true)
	fl.StringVar(&f.reportDir, "report", "c2clab-certification", "directory for the reports")
	fl.Int64Var(&f.seed, "seed", -1, "scenario order: -1 random (the seed is printed), 0 file order, N a fixed seed")
	fl.IntVar(&f.concurrency, "concurrency", 0, concurrencyUsage)
	cmd.AddCommand(newCertifyVerifyCmd())
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
	if f.seed < 0 { // pick it here, so that the report can name it
		f.seed = time.Now().UnixNano() & (1<<62 - 1)
		fmt.Fprintf(cmd.OutOrStdout(), "scenario order seed: %d\n", f.seed)
	}
	prof, err := certifyProfile(f)
	if err != nil {
		return err
	}
	start := time.Now()
	runs, err := runPairings(cmd, f, cfg, prof)
	if err != nil {
		return err
	}
	if f.ran != nil {
		if id, err = f.ran.kubeIdentity(id); err != nil {
			return failed(err)
		}
	}
	rep, cat, err := buildCertification(f, prof, id, start, runs)
	if err != nil {
		return err
	}
	rep.Duration = time.Since(start)
	if err := writeCertification(f, rep, certify.Merge(runs), cat); err != nil {
		return err
	}
	printCertification(cmd, rep)
	if rep.Verdict != certify.Certified {
		return failed(fmt.Errorf("certify: %s: %d mandatory requirements not met", rep.Verdict, len(rep.Denied)))
	}
	return nil
}

// certifyProfile is the connector profile, or the subset of it that
// --requirements names.
func certifyProfile(f certifyFlags) (certify.Profile, error) {
	if len(f.requirements) == 0 {
		return certify.Connector, nil
	}
	p, err := certify.Connector.Subset(f.requirements)
	if err != nil {
		return p, badInput(fmt.Errorf("--requirements: %w", err))
	}
	return p, nil
}

// runPairings runs the profile with the agent under test on both ends,
// then the scenarios of it that carried a connection between two agents
// again with the reference agent as destination and as source (CERT-1).
// Each pairing's reports and logs go to a directory of its own.
func runPairings(cmd *cobra.Command, f certifyFlags, cfg steps.Config, prof certify.Profile) ([]certify.Run, error) {
	pickles, err := certify.Pickles(features.FS)
	if err != nil {
		return nil, fmt.Errorf("certify: %w", err)
	}
	var runs []certify.Run
	var paths []string // after the first pairing: the scenarios that carried a connection
	for i, p := range steps.Pairings() {
		if i > 0 && len(paths) == 0 {
			runs = append(runs, certify.Run{Pairing: p.String()})
			continue
		}
		dir := filepath.Join(f.reportDir, pairingDir(p))
		c := cfg
		c.Pairing, c.LogDir = p, filepath.Join(dir, "logs")
		fmt.Fprintf(cmd.OutOrStdout(), "\n== pairing %s: source %s, destination %s\n", p, endName(p.ReferenceSource), endName(p.ReferenceDestination))
		res, err := steps.Run(steps.RunOptions{
			Config: c, Features: features.FS, Paths: paths, Tags: prof.Tags(), ReportDir: dir, Output: cmd.OutOrStdout(), Seed: f.seed,
			Concurrency: cmp.Or(f.concurrency, steps.DefaultConcurrency(c.Backend)),
		})
		if err != nil {
			return nil, badInput(err)
		}
		feats, err := readCucumber(filepath.Join(dir, "cucumber.json"))
		if err != nil {
			return nil, err
		}
		runs = append(runs, certify.Run{Pairing: p.String(), Features: feats})
		if i == 0 {
			paths = certify.Paths(pickles, carried(res))
		}
	}
	return runs, nil
}

// carried lists, per feature file, the scenarios that carried a
// connection between two agents.
func carried(res steps.Result) map[string][]string {
	out := map[string][]string{}
	for _, o := range res.Scenarios {
		if o.Carried {
			uri := certify.StripLine(o.URI)
			out[uri] = append(out[uri], o.Name)
		}
	}
	return out
}

// pairingDir is a pairing's directory name under the report: T-T, T-R, R-T.
func pairingDir(p steps.Pairing) string { return strings.ReplaceAll(p.String(), "->", "-") }

func endName(reference bool) string {
	if reference {
		return "reference agent (R)"
	}
	return "agent under test (T)"
}

func readCucumber(path string) ([]report.Feature, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("certify: %w", err)
	}
	feats, err := report.ParseCucumber(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("certify: %q: %w", path, err)
	}
	return feats, nil
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
		if f.nodeCmd != "" {
			return cfg, certify.Identity{}, none, badInput(errors.New("certify: --node-cmd: the container backend runs its nodes from the lab's image (--container-binary); want --agent-cmd"))
		}
		f.backend = cmp.Or(f.backend, lab.BackendContainer)
		if err := lab.Backend(f.backend).Supports(lab.FeatureAgentImage); err != nil {
			return cfg, certify.Identity{}, none, badInput(fmt.Errorf("certify: --agent-image: %w; want --backend %s or %s", err, lab.BackendContainer, lab.BackendKubernetes))
		}
		if f.backend == lab.BackendKubernetes {
			f.ran = &ranImages{}
			cfg, id, err := kubeAgentImage(*f, cfg, f.ran)
			return cfg, id, none, err
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
		return cfg, id, none, badInput(fmt.Errorf("certify: %w", err))
	}
	cfg.Backend, cfg.AgentCommand = f.backend, []string{id.Command}
	if f.nodeCmd != "" {
		node, err := nodeProgram(f.nodeCmd)
		if err != nil {
			return cfg, id, none, badInput(fmt.Errorf("certify: %w", err))
		}
		cfg.Command = []string{node}
	}
	return cfg, id, none, nil
}

// nodeProgram resolves --node-cmd to an absolute path of an executable
// file: the lab starts it from each node's own directory.
func nodeProgram(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("--node-cmd %q: %w", path, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("--node-cmd: %w; want a node program such as a build of ./cmd/c2clab-node", err)
	}
	if !st.Mode().IsRegular() || st.Mode()&0o111 == 0 {
		return "", fmt.Errorf("--node-cmd %q: not an executable file; want a node program such as a build of ./cmd/c2clab-node", path)
	}
	return abs, nil
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
		Command: f.agentImage, SHA256: strings.TrimPrefix(id, "sha256:"), URL: f.url, Contact: f.contact}, nil
}

// connectorIdentity resolves the agent program and hashes it.
func connectorIdentity(f certifyFlags) (certify.Identity, error) {
	path, err := exec.LookPath(f.agentCmd)
	if err != nil {
		return certify.Identity{}, fmt.Errorf("--agent-cmd %q: %w", f.agentCmd, err)
	}
	if path, err = filepath.Abs(path); err != nil {
		return certify.Identity{}, fmt.Errorf("--agent-cmd: %w", err)
	}
	sum, err := certify.FileSHA256(path)
	if err != nil {
		return certify.Identity{}, fmt.Errorf("--agent-cmd: %w", err)
	}
	name := f.name
	if name == "" {
		name = filepath.Base(path)
	}
	return certify.Identity{Name: name, Version: f.version, Vendor: f.vendor, Command: path, SHA256: sum, URL: f.url, Contact: f.contact}, nil
}

func buildCertification(f certifyFlags, prof certify.Profile, id certify.Identity, start time.Time, runs []certify.Run) (certify.Report, []report.Requirement, error) {
	cat, err := report.LoadCatalogue(features.Requirements)
	if err != nil {
		return certify.Report{}, nil, fmt.Errorf("certify: requirements catalogue: %w", err)
	}
	fsum, err := certify.FeaturesSHA256(features.FS)
	if err != nil {
		return certify.Report{}, nil, fmt.Errorf("certify: %w", err)
	}
	verdict, denied, results := certify.Judge(prof, runs, cat)
	return certify.Report{
		Verdict: verdict, Denied: denied, Connector: id, Mode: certifyMode(f),
		Suite:       certify.Suite{Version: c2clabVersion(), FeaturesSHA256: fsum, Profile: prof.Name, Backend: f.backend},
		Environment: environment(), Started: start, Pairings: certify.Summaries(runs), Requirements: results,
		Reproduce: reproduceCommand(f),
	}, cat, nil
}

func certifyMode(f certifyFlags) string {
	if f.agentImage != "" {
		return "agent-image"
	}
	return "agent-cmd"
}

// reproduceCommand is the command line that runs the same certification
// again: the same agent, backend, scenario order and identity.
func reproduceCommand(f certifyFlags) string {
	args := []string{"c2clab", "certify"}
	add := func(flag, v string) {
		if v != "" {
			args = append(args, flag, shellQuote(v))
		}
	}
	add("--agent-cmd", f.agentCmd)
	add("--agent-image", f.agentImage)
	add("--backend", f.backend)
	add("--node-cmd", f.nodeCmd)
	if f.backend == lab.BackendKubernetes {
		add("--agent-entrypoint", strings.Join(f.agentEntrypoint, ","))
		add("--image", f.kube.image)
		add("--pull-policy", f.kube.pullPolicy)
	}
	add("--requirements", strings.Join(f.requirements, ","))
	add("--seed", strconv.FormatInt(f.seed, 10))
	add("--vendor", f.vendor)
	add("--product", f.name)
	add("--version", f.version)
	add("--url", f.url)
	add("--contact", f.contact)
	return strings.Join(args, " ")
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:@+=,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
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

func printCertification(cmd *cobra.Command, rep certify.Report) {
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "\n%s %s (%s), sha256 %s\n", rep.Connector.Name, rep.Connector.Version, rep.Connector.Vendor, rep.Connector.SHA256)
	for _, r := range rep.Requirements {
		kind := "optional "
		if r.Mandatory {
			kind = "mandatory"
		}
		fmt.Fprintf(w, "  %-6s %s  %-7s  %s\n", r.ID, kind, r.Verdict, r.Why)
	}
	for _, p := range rep.Pairings {
		fmt.Fprintf(w, "pairing %s (source: %s, destination: %s): %d passed, %d failed, %d skipped\n", p.Pairing, p.Source, p.Destination, p.Passed, p.Failed, p.Skipped)
	}
	fmt.Fprintf(w, "verdict: %s\n", rep.Verdict)
	for _, d := range rep.Denied {
		fmt.Fprintf(w, "  denied by %s\n", strings.TrimSpace(d))
	}
}

func newCertifyVerifyCmd() *cobra.Command {
	var featuresDir string
	cmd := &cobra.Command{
		Use:   "verify REPORT.json",
		Short: "Check that a certification report follows from its recorded results and this suite",
		Long: `Check a certification.json that c2clab certify wrote, as a reviewer would
before accepting it:
  - the suite hash: the report's features SHA-256 equals the hash of the
    features here (embedded in this binary, or --features DIR of a checkout);
  - the profile: every requirement of this c2clab's connector profile is in
    the report, mandatory where the profile says so;
  - the scenarios: the first pairing (T->T) lists exactly the scenarios
    the suite tags with each requirement, the pairings with the reference
    agent (T->R, R->T) the same ones, all from the suite;
  - the verdicts: each requirement's verdict, CERT-1's from the pairings,
    the pairing counts and the report's verdict follow from the recorded
    scenario results by the rules of docs/CERTIFICATION.md.
It does not run anything: to check the results themselves, run the
report's "reproduce" command.

Exit codes: 0 consistent, 1 a check failed (each is listed), 2 unreadable.`,
		Example: `  c2clab certify verify c2clab-certification/certification.json
  c2clab certify verify --features ./features report.json   # against a checkout`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runCertifyVerify(cmd, args[0], featuresDir) },
	}
	cmd.Flags().StringVar(&featuresDir, "features", "", "the features of a checkout to hash and read (default: the ones embedded in this binary)")
	return cmd
}

func runCertifyVerify(cmd *cobra.Command, path, featuresDir string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return badInput(fmt.Errorf("certify verify: %w", err))
	}
	var rep certify.Report
	if err := json.Unmarshal(data, &rep); err != nil {
		return badInput(fmt.Errorf("certify verify: %q: not a certification report: %w", path, err))
	}
	var fsys fs.FS = features.FS
	where := "embedded in this c2clab"
	if featuresDir != "" {
		if _, err := os.Stat(featuresDir); err != nil {
			return badInput(fmt.Errorf("certify verify: --features: %w", err))
		}
		fsys, where = os.DirFS(featuresDir), featuresDir
	}
	sum, err := certify.FeaturesSHA256(fsys)
	if err != nil {
		return badInput(fmt.Errorf("certify verify: %w", err))
	}
	pickles, err := certify.Pickles(fsys)
	if err != nil {
		return badInput(fmt.Errorf("certify verify: %w", err))
	}
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "%s: %s, %s %s (%s), c2clab %s, features %s\n", path, rep.Verdict, rep.Connector.Name, rep.Connector.Version, rep.Connector.Vendor, rep.Suite.Version, where)
	if errs := certify.Verify(rep, certify.Connector, pickles, sum); len(errs) > 0 {
		fmt.Fprint(w, certify.Problems(errs))
		return failed(fmt.Errorf("certify verify: %q: %d checks failed", path, len(errs)))
	}
	fmt.Fprintf(w, "verified: the verdict follows from the recorded results of this suite (features SHA-256 %s)\n", sum)
	return nil
}
