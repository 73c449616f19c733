package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/c2clab/c2clab/sim/bench"
	"github.com/c2clab/c2clab/sim/lab"
)

// errCostRegression is what bench ab fails with.
var errCostRegression = errors.New("bench ab: the candidate's relay costs significantly more CPU per GiB")

type benchABFlags struct {
	base, candidate string
	backend, out    string
	rounds, warmup  int
	sizeMiB         int
	t               bench.CostThresholds
}

func newBenchABCmd() *cobra.Command {
	var f benchABFlags
	cmd := &cobra.Command{
		Use:   "ab --base C2CLAB --candidate C2CLAB [--rounds N] [--warmup N]",
		Short: "Compare the relay's CPU per GiB of two builds, measured alternately in one run",
		Long: `Start two labs at once, one whose broker and agents run the --base build of
c2clab and one that runs the --candidate build, and move --size MiB through
each relay in turn (base, candidate, then candidate, base, ...), every byte
checked. Each transfer's cost is the CPU time of that lab's broker and both
agents (their cgroup), per GiB moved. The first --warmup rounds are left
out; then the rounds of both sides are compared as benchstat does: medians
with 95% confidence intervals and a Mann-Whitney U test.

CPU per byte is compared, not rates: on a shared machine the rate swings
with load, while the CPU a byte costs moves a few percent, and both builds
meet the same load because they alternate.

Exit 1 when the candidate costs significantly more (p < --alpha) and its
median is more than --min-rise above the base's; 0 otherwise; 2 bad input.
Writes ab.txt (benchstat -col /build ab.txt) and ab.json into --out.
ci/perf/run builds the two binaries and runs this; see docs/PERFORMANCE.md.`,
		Example: `  go build -o /tmp/base ./cmd/c2clab        # at the base revision
  go build -o /tmp/cand ./cmd/c2clab        # with the change
  c2clab bench ab --base /tmp/base --candidate /tmp/cand --rounds 200`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runBenchAB(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.base, "base", "", "c2clab binary of the base build (required)")
	fl.StringVar(&f.candidate, "candidate", "", "c2clab binary of the candidate build (required)")
	fl.StringVar(&f.backend, "backend", defaultBenchBackend(), "where machines run: local or netns (root)")
	fl.StringVar(&f.out, "out", "bench-ab-out", "directory for ab.txt and ab.json")
	fl.IntVar(&f.rounds, "rounds", 200, "measured rounds, one transfer per side each")
	fl.IntVar(&f.warmup, "warmup", 3, "rounds run first and left out")
	fl.IntVar(&f.sizeMiB, "size", 64, "MiB each transfer moves")
	fl.Float64Var(&f.t.Alpha, "alpha", 0.05, "significance level of the Mann-Whitney U test")
	fl.Float64Var(&f.t.MinRise, "min-rise", 0.03, "smallest rise of the median CPU per GiB, as a fraction, that fails")
	return cmd
}

func runBenchAB(cmd *cobra.Command, f benchABFlags) error {
	if err := refuseKube("bench ab", f.backend); err != nil {
		return badInput(err)
	}
	switch {
	case f.base == "" || f.candidate == "":
		return badInput(errors.New("bench ab: --base and --candidate are required: the c2clab binaries of the two builds"))
	case f.rounds < 4:
		return badInput(fmt.Errorf("bench ab: --rounds %d: want at least 4; with fewer no difference is significant at 0.05", f.rounds))
	case f.warmup < 0 || f.sizeMiB < 1:
		return badInput(fmt.Errorf("bench ab: --warmup %d, --size %d: want a warm-up >= 0 and a size >= 1 MiB", f.warmup, f.sizeMiB))
	}
	if err := lab.Backend(f.backend).Supports(lab.FeatureBench); err != nil {
		return badInput(fmt.Errorf("bench ab: --backend %q: want %q or %q: %w", f.backend, lab.BackendLocal, lab.BackendNetns, err))
	}
	for _, bin := range []string{f.base, f.candidate} {
		if st, err := os.Stat(bin); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			return badInput(fmt.Errorf("bench ab: %q is not an executable c2clab binary", bin))
		}
	}
	warmup := f.warmup
	if warmup == 0 {
		warmup = -1 // ABConfig's zero is the default
	}
	cfg := bench.ABConfig{Base: []string{f.base, "node"}, Candidate: []string{f.candidate, "node"}, Backend: f.backend,
		Rounds: f.rounds, Warmup: warmup, Size: int64(f.sizeMiB) << 20, Thresholds: f.t, Progress: progressLine(cmd.ErrOrStderr())}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := bench.RunAB(ctx, cfg)
	if isTerminal(cmd.ErrOrStderr()) {
		fmt.Fprint(cmd.ErrOrStderr(), "\r\033[K")
	}
	if err != nil {
		return failed(err)
	}
	if err := res.WriteVerdict(cmd.OutOrStdout()); err != nil {
		return err
	}
	if err := bench.WriteABFiles(f.out, res); err != nil {
		return failed(err)
	}
	if res.CPU.Regressed {
		return failed(errCostRegression)
	}
	return nil
}
