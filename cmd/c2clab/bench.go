package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/c2clab/c2clab/sim/bench"
	"github.com/c2clab/c2clab/sim/lab"
	"github.com/c2clab/c2clab/sim/linkemu"
)

type benchFlags struct {
	quick     bool
	backend   string
	out       string
	count     int
	streams   []int
	underLoad bool
	impaired  string
	profile   int
	nodeEnv   []string
	kube      kubeFlags // --backend kubernetes only
}

// defaultImpairment is --impaired without a value: 20 ms round trip time
// and 1% loss, each way, on the desktop's link.
const defaultImpairment = "delay=10ms,loss=1%"

func newBenchCmd() *cobra.Command {
	var f benchFlags
	cmd := &cobra.Command{
		Use:   "bench [--quick] [--backend local|netns|kubernetes] [--out DIR] [--count N]",
		Short: "Measure the relay against direct, splice-relay, socat and iperf3 in one run",
		Long: `Start a lab (broker, an admin's device, a desktop with bulk and echo
services) and measure, on the same machines and in the same run, every path
to the desktop's services:

  relay   through the admin's agent, the broker and the desktop's agent
  direct  straight to the desktop's address on the lab network
  splice  through a plain splice(2) TCP forwarder on the broker's machine
  socat   through socat on the broker's machine (left out if not installed)

With --backend kubernetes the machines are Pods on the cluster --kubeconfig
names, running --image (as lab up and test take them), and this process
dials every path from its host into the Pod network: relay, direct and
splice (the forwarder runs as a node in the broker's Pod) are measured;
socat and iperf3, which the FROM-scratch image does not hold, are reported
as not measured, with the reason. Each path's CPU is read by the machine
process in its Pod (its nodes' threads' scheduler runtime, in ns); the
output says which Pod on which node every node ran in. Direct is plain
there, not routed through the broker's kernel as on netns, so relay/direct
differs from netns's in kind.

Throughput runs over a matrix of sizes and stream counts, every byte checked,
Count times per cell with the paths alternating; the relay's ratios to the
other paths are taken round by round. Then round trips and connection setup
per path, and the lab's probe against iperf3 -R through the same forward of
the admin's agent (left out if iperf3 is not installed).

Writes bench.txt (Go benchmark format, for benchstat), bench.json and
bench.html (SVG plots) into --out. --quick is one 32 MiB single-stream cell,
3 runs: under 30 seconds.

Beside every rate, the cost: CPU seconds per GiB and per 1,000 setups of
each path's own processes (the relay's broker and agents, the splice node,
socat), and the Go nodes' allocations. Setup is connect, one request, close
(like TCP_CRR), so its total gives connections per second.

The fuller matrix, behind flags:
  --streams 1,4     parallel streams per cell (default 1 and 4; 1 with --quick)
  --under-load      round trips while a bulk stream runs each way on the path
  --impaired[=SPEC] the desktop's link through the lab's link emulator, both
                    ways (netns, kubernetes: the emulator in the desktop's Pod;
                    default ` + defaultImpairment + `: a 20 ms round trip)
  --profile SECONDS CPU profiles of the relay's broker and agents under
                    round-trip and setup load, after the measurements, into
                    OUT/profile/LOAD-NODE.pprof (go tool pprof -top)

See docs/PERFORMANCE.md.`,
		Example: `  c2clab bench --quick
  c2clab bench --backend netns --count 10 --out /tmp/bench
  c2clab bench --quick --under-load --streams 1,4
  c2clab bench --quick --impaired
  c2clab bench --quick --backend kubernetes --image c2clab/c2clab:dev --pull-policy Never
  benchstat old/bench.txt /tmp/bench/bench.txt`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runBench(cmd, f) },
	}
	cmd.Flags().BoolVar(&f.quick, "quick", false, "one 32 MiB single-stream cell, 3 runs, short latency and iperf3 runs")
	cmd.Flags().StringVar(&f.backend, "backend", defaultBenchBackend(), "where machines run: local, netns (root) or kubernetes (a cluster from KUBECONFIG)")
	addKubeFlags(cmd.Flags(), &f.kube, true)
	cmd.Flags().StringVar(&f.out, "out", "bench-out", "directory for bench.txt, bench.json and bench.html")
	cmd.Flags().IntVar(&f.count, "count", 0, "runs per cell (default 5, 3 with --quick); ci/perf compares with several")
	cmd.Flags().IntSliceVar(&f.streams, "streams", nil, "parallel streams per cell, e.g. 1,4 (default 1 and 4; 1 with --quick)")
	cmd.Flags().BoolVar(&f.underLoad, "under-load", false, "also take round trips while a bulk stream runs each way")
	cmd.Flags().StringVar(&f.impaired, "impaired", "", "impair the desktop's link both ways through the link emulator (netns, kubernetes), e.g. "+defaultImpairment)
	cmd.Flags().Lookup("impaired").NoOptDefVal = defaultImpairment
	cmd.Flags().StringArrayVar(&f.nodeEnv, "node-env", nil, "KEY=VALUE added to every lab node's environment, e.g. GOMAXPROCS=1 or GODEBUG=...; repeatable (experiments: a run with it is not comparable to one without)")
	cmd.Flags().IntVar(&f.profile, "profile", 0, "after the measurements, take SECONDS-long CPU profiles of the relay's broker and agents under round-trip and setup load, into OUT/profile (diagnostics; results unchanged)")
	cmd.AddCommand(newBenchCompareCmd(), newBenchABCmd())
	return cmd
}

// defaultBenchBackend is netns when it can run (root), local otherwise.
func defaultBenchBackend() string {
	if os.Geteuid() == 0 {
		return lab.BackendNetns
	}
	return lab.BackendLocal
}

func runBench(cmd *cobra.Command, f benchFlags) error {
	if f.count < 0 {
		return badInput(fmt.Errorf("bench: --count %d: want a positive number of runs", f.count))
	}
	if err := lab.Backend(f.backend).Supports(lab.FeatureBench); err != nil {
		return badInput(fmt.Errorf("bench: --backend: %w; want %q, %q or %q", err, lab.BackendLocal, lab.BackendNetns, lab.BackendKubernetes))
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cfg := bench.Config{Command: []string{exe, "node"}, Backend: f.backend, Progress: progressLine(cmd.ErrOrStderr())}
	if f.backend == lab.BackendKubernetes {
		cfg.Kube = f.kube.spec()
	}
	// C2CLAB_TEST_RELAY_DELAY (a Go duration, e.g. 200us) is ci/perf's proof
	// knob: read here, at the boundary, and handed to the broker as config.
	if v := os.Getenv("C2CLAB_TEST_RELAY_DELAY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return badInput(fmt.Errorf("bench: C2CLAB_TEST_RELAY_DELAY %q: want a Go duration such as 200us", v))
		}
		cfg.RelayDelay = d
	}
	if f.quick {
		cfg = bench.Quick(cfg)
	}
	if f.count > 0 {
		cfg.Count = f.count
	}
	if err := applyMatrixFlags(&cfg, f); err != nil {
		return badInput(err)
	}
	for _, kv := range f.nodeEnv {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return badInput(fmt.Errorf("bench: --node-env %q: want KEY=VALUE, e.g. GOMAXPROCS=1", kv))
		}
	}
	cfg.Env = f.nodeEnv
	if f.profile < 0 {
		return badInput(fmt.Errorf("bench: --profile %d: want the seconds each profile runs, e.g. 10", f.profile))
	}
	if f.profile > 0 {
		cfg.Profile, cfg.ProfileSeconds = filepath.Join(f.out, "profile"), f.profile
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := bench.Run(ctx, cfg)
	if isTerminal(cmd.ErrOrStderr()) {
		fmt.Fprint(cmd.ErrOrStderr(), "\r\033[K")
	}
	if err != nil {
		return failed(err)
	}
	out := cmd.OutOrStdout()
	if err := res.WriteTable(out); err != nil {
		return err
	}
	if err := bench.WriteFiles(f.out, res); err != nil {
		return failed(err)
	}
	fmt.Fprintf(out, "wrote %s/{%s,%s,%s} in %s\n", f.out, bench.TextFile, bench.JSONFile, bench.HTMLFile, res.Elapsed.Round(1e8))
	return nil
}

// progressLine rewrites one line on w (stderr) before every step when w
// is a terminal, and prints a line per step otherwise (CI logs).
func progressLine(w io.Writer) func(bench.Progress) {
	if !isTerminal(w) {
		return func(p bench.Progress) { fmt.Fprintf(w, "bench [%d/%d] %s\n", p.Done+1, p.Total, p.Step) }
	}
	return func(p bench.Progress) {
		fmt.Fprintf(w, "\r\033[K[%d/%d] %s", p.Done+1, p.Total, p.Step)
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// applyMatrixFlags puts --streams, --under-load and --impaired into cfg.
func applyMatrixFlags(cfg *bench.Config, f benchFlags) error {
	for _, n := range f.streams {
		if n < 1 || n > 64 {
			return fmt.Errorf("bench: --streams %d: want between 1 and 64 streams", n)
		}
	}
	if len(f.streams) > 0 {
		cfg.Streams = f.streams
	}
	cfg.UnderLoad = f.underLoad
	if f.impaired == "" {
		return nil
	}
	if err := lab.Backend(f.backend).Supports(lab.FeatureLinks); err != nil {
		return fmt.Errorf("bench: --impaired needs --backend netns or kubernetes: the link emulator runs in a network namespace: %w", err)
	}
	im, err := linkemu.Parse(f.impaired)
	if err != nil {
		return fmt.Errorf("bench: --impaired %q: %w", f.impaired, err)
	}
	cfg.Link = im
	if f.quick {
		cfg.Sizes = nil // the impaired default: 4 MiB
	}
	return nil
}
