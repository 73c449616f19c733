package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/c2clab/c2clab/sim/bench"
)

// errRegression is what bench compare fails with.
var errRegression = errors.New("bench compare: a relay ratio regressed significantly")

func newBenchCompareCmd() *cobra.Command {
	var t bench.Thresholds
	cmd := &cobra.Command{
		Use:   "compare BASELINE.json NEW.json",
		Short: "Compare the relay's ratios of two bench runs; fail on a significant regression",
		Long: `Compare the relay's ratios to the direct, splice and socat paths in two
bench.json files, cell by cell, the way benchstat compares benchmarks:
medians with 95% confidence intervals and a Mann-Whitney U test over the
runs. Absolute rates are not compared: they differ between machines.

Exit 1 only when a ratio dropped significantly (p < --alpha) and by more
than --max-drop; 0 otherwise. With fewer than 4 runs on a side no change is
significant at 0.05: use --count 5 or more (ci/perf does).`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			base, err := bench.ReadJSON(args[0])
			if err != nil {
				return badInput(err)
			}
			cur, err := bench.ReadJSON(args[1])
			if err != nil {
				return badInput(err)
			}
			if base.Backend != cur.Backend {
				return badInput(fmt.Errorf("bench compare: %s was taken on the %s backend and %s on %s: compare runs of one backend", args[0], base.Backend, args[1], cur.Backend))
			}
			cs := bench.Compare(base, cur, t)
			if len(cs) == 0 {
				return badInput(fmt.Errorf("bench compare: %s and %s have no cell and path in common", args[0], args[1]))
			}
			if err := bench.WriteChanges(cmd.OutOrStdout(), cs, t); err != nil {
				return err
			}
			if bench.Regressed(cs) {
				return failed(errRegression)
			}
			return nil
		},
	}
	cmd.Flags().Float64Var(&t.Alpha, "alpha", 0.05, "significance level of the Mann-Whitney U test")
	cmd.Flags().Float64Var(&t.MaxDrop, "max-drop", 0.10, "smallest drop of a ratio's median, as a fraction, that fails")
	return cmd
}
