package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/c2clab/c2clab/sim/check"
	"github.com/c2clab/c2clab/sim/tenant"
	"github.com/spf13/cobra"
)

// checkReport is the --json output.
type checkReport struct {
	Tenants []tenantReport `json:"tenants"`
	Passed  int            `json:"passed"`
	Failed  int            `json:"failed"`
	// BadInput counts tenant files that could not be loaded.
	BadInput int `json:"badInput"`
}

type tenantReport struct {
	File     string         `json:"file"`
	Error    string         `json:"error,omitempty"`
	Warnings []string       `json:"warnings"`
	Results  []check.Result `json:"results"`
}

func newCheckCmd() *cobra.Command {
	var asJSON, verbose bool
	cmd := &cobra.Command{
		Use:   "check TENANT_FILE...",
		Short: "Run the tests: of tenant files and report which expectations hold",
		Long: `check loads each tenant file, prints its warnings (configurations ZPA accepts
but an admin should see, such as two hostname regexes), runs every entry of its
tests: section as c2clab explain would, and prints PASS or FAIL per test; for
a failure it shows what was expected, what happened and the trace. It ends
with "N passed, N failed".

Exit codes: 0 every test passed, 1 a test failed, 2 a file could not be used
(errors name file, line and field).`,
		Example: `  c2clab check fixtures/tenants/*.yaml fixtures/tenants/zpa-export.json
  c2clab check --json fixtures/tenants/strict.yaml`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rep := runCheck(args)
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(rep); err != nil {
					return fmt.Errorf("check: write report: %w", err)
				}
			} else {
				printCheck(out, cmd.ErrOrStderr(), rep, verbose)
			}
			switch {
			case rep.BadInput > 0:
				return badInput(errors.New(""))
			case rep.Failed > 0:
				return failed(errors.New(""))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "print the trace of passing tests too")
	return cmd
}

func runCheck(files []string) checkReport {
	rep := checkReport{Tenants: []tenantReport{}}
	for _, f := range files {
		tr := tenantReport{File: f, Warnings: []string{}, Results: []check.Result{}}
		t, warns, err := tenant.Load(f)
		for _, w := range tenant.DecisionsFirst(warns) {
			tr.Warnings = append(tr.Warnings, w.String())
		}
		if err != nil {
			tr.Error = err.Error()
			rep.BadInput++
			rep.Tenants = append(rep.Tenants, tr)
			continue
		}
		tr.Results = check.Run(t)
		for _, r := range tr.Results {
			if r.Pass {
				rep.Passed++
			} else {
				rep.Failed++
			}
		}
		rep.Tenants = append(rep.Tenants, tr)
	}
	return rep
}

func printCheck(out, errw io.Writer, rep checkReport, verbose bool) {
	for _, tr := range rep.Tenants {
		fmt.Fprintln(out, tr.File)
		for _, w := range tr.Warnings {
			fmt.Fprintln(errw, "warning:", w)
		}
		if tr.Error != "" {
			fmt.Fprintln(errw, "c2clab: check:", tr.Error)
			continue
		}
		for _, r := range tr.Results {
			printResult(out, r, verbose)
		}
	}
	fmt.Fprintf(out, "%d passed, %d failed", rep.Passed, rep.Failed)
	if rep.BadInput > 0 {
		fmt.Fprintf(out, ", %d file(s) could not be used", rep.BadInput)
	}
	fmt.Fprintln(out)
}

func printResult(w io.Writer, r check.Result, verbose bool) {
	if r.Pass {
		fmt.Fprintf(w, "PASS  %s\n", r.Name)
		if !verbose {
			return
		}
	} else {
		fmt.Fprintf(w, "FAIL  %s  (%s)\n", r.Name, r.Where)
		fmt.Fprintf(w, "      expected: %s\n      got:      %s\n", r.Expected, r.Got)
	}
	if r.Error != "" {
		fmt.Fprintf(w, "      error:    %s\n", r.Error)
	}
	if r.Answer != nil {
		fmt.Fprintln(w, "      trace:")
		for i, l := range r.Answer.Trace {
			fmt.Fprintf(w, "      %3d. %s\n", i+1, l)
		}
	}
}
