package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/c2clab/c2clab/sim/check"
	"github.com/c2clab/c2clab/sim/labcheck"
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
	// With --lab: tests where the lab and check agree, differ, where the
	// lab cannot answer, and where the lab could not be asked.
	LabAgree     int `json:"labAgree,omitempty"`
	LabDiffer    int `json:"labDiffer,omitempty"`
	LabUndecided int `json:"labUndecided,omitempty"`
	LabErrors    int `json:"labErrors,omitempty"`
}

type tenantReport struct {
	File     string         `json:"file"`
	Error    string         `json:"error,omitempty"`
	Warnings []string       `json:"warnings"`
	Results  []check.Result `json:"results"`
	// Lab holds, with --lab, the lab's answer to each test beside check's.
	Lab []labcheck.Result `json:"lab,omitempty"`

	tenant *tenant.Tenant // nil when it could not be loaded
}

func newCheckCmd() *cobra.Command {
	var asJSON, verbose, withLab bool
	cmd := &cobra.Command{
		Use:   "check TENANT_FILE...",
		Short: "Run the tests: of tenant files and report which expectations hold",
		Long: `check loads each tenant file, prints its warnings (configurations ZPA accepts
but an admin should see, such as two hostname regexes), runs every entry of its
tests: section as c2clab explain would, and prints PASS or FAIL per test; for
a failure it shows what was expected, what happened and the trace. It ends
with "N passed, N failed".

With --lab each test is also run through a real lab on loopback addresses
(a broker, and per device its services and its agent, each a process, as
"lab up" starts them): the test's devices are started in order, then its
source device, and the source's agent connects as an unmodified SOCKS5
client would. check then reports every difference between its own answer and
the lab's: outcome, code, whether the broker was reached, segment, rule and
access type ("LAB DIFFERS"). UDP tests are "undecided": the lab's agents carry
TCP only. check answers Client to Server as if an App Connector served the
segment's server groups and the app server listened on the port; the lab is
given exactly that (one App Connector per such segment, an echo service per
port asked). A difference means explain tells an admin something the lab
does not do; it fails the run like a failed test.

Exit codes: 0 every test passed (and, with --lab, the lab agreed), 1 a test
failed or the lab differed, 2 a file could not be used (errors name file,
line and field).`,
		Example: `  c2clab check fixtures/tenants/*.yaml fixtures/tenants/zpa-export.json
  c2clab check --json fixtures/tenants/strict.yaml
  c2clab check --lab fixtures/tenants/shared-namespace.yaml`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rep := runCheck(args)
			if withLab {
				if err := runLabCheck(cmd.Context(), &rep); err != nil {
					return failed(err)
				}
			}
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
			case rep.Failed > 0, rep.LabDiffer > 0, rep.LabErrors > 0:
				return failed(errors.New(""))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "print the trace of passing tests too")
	cmd.Flags().BoolVar(&withLab, "lab", false, "also run every test through a real loopback lab and report where it differs")
	return cmd
}

// runCheck loads each file and runs its tests; the tenants it loaded are
// kept for --lab.
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
		tr.tenant = t
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
		for _, r := range tr.Lab {
			printLabResult(out, r)
		}
	}
	fmt.Fprintf(out, "%d passed, %d failed", rep.Passed, rep.Failed)
	if rep.BadInput > 0 {
		fmt.Fprintf(out, ", %d file(s) could not be used", rep.BadInput)
	}
	if n := rep.LabAgree + rep.LabDiffer + rep.LabUndecided + rep.LabErrors; n > 0 {
		fmt.Fprintf(out, "; lab: %d agree, %d differ, %d undecided, %d could not be asked", rep.LabAgree, rep.LabDiffer, rep.LabUndecided, rep.LabErrors)
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

// runLabCheck asks a loopback lab every test of each loaded tenant, one lab
// per tenant, and adds the lab's answers to rep.
func runLabCheck(ctx context.Context, rep *checkReport) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("check --lab: %w", err)
	}
	opts := labcheck.Options{Command: []string{exe, "node"}}
	for i := range rep.Tenants {
		tr := &rep.Tenants[i]
		if tr.tenant == nil {
			continue
		}
		cases := make([]labcheck.Case, len(tr.tenant.Tests))
		for j, tt := range tr.tenant.Tests {
			cases[j] = labcheck.Case{Name: tt.Name, Where: tt.Where,
				Question: check.Question{User: tt.User, From: tt.From, Devices: tt.Devices, FQDN: tt.FQDN, Port: tt.Port, Proto: tt.Proto, Time: tt.At}}
		}
		rs, err := labcheck.Run(ctx, opts, tr.tenant.Policy(), cases)
		if err != nil {
			return fmt.Errorf("check --lab: %s: %w", tr.File, err)
		}
		tr.Lab = rs
		a, d, u, e := labcheck.Summary(rs)
		rep.LabAgree, rep.LabDiffer, rep.LabUndecided, rep.LabErrors = rep.LabAgree+a, rep.LabDiffer+d, rep.LabUndecided+u, rep.LabErrors+e
	}
	return nil
}

func printLabResult(w io.Writer, r labcheck.Result) {
	switch {
	case r.Error != "":
		fmt.Fprintf(w, "LAB ERROR    %s  (%s)\n      %s\n", r.Name, r.Where, r.Error)
	case r.Undecided != "":
		fmt.Fprintf(w, "LAB UNDECIDED  %s: %s\n", r.Name, r.Undecided)
	case len(r.Differences) > 0:
		fmt.Fprintf(w, "LAB DIFFERS  %s  (%s)\n", r.Name, r.Where)
		for _, d := range r.Differences {
			fmt.Fprintf(w, "      %s\n", d)
		}
	default:
		fmt.Fprintf(w, "LAB AGREES   %s\n", r.Name)
	}
}
