package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteTable writes results as an aligned plain-text table, one row per
// requirement (ID, verdict, passed/total scenarios, summary, and why when it
// did not pass), then the line "N passed, N failed, N skipped, N missing".
func WriteTable(w io.Writer, results []RequirementResult) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tverdict\tscenarios\tsummary")
	for _, r := range results {
		summary := r.Summary
		if r.Reason != "" && r.Verdict != VerdictMissing {
			summary += " [" + r.Reason + "]"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d/%d\t%s\n", r.ID, r.Verdict, r.Passed(), len(r.Scenarios), oneLine(summary))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write requirement table: %w", err)
	}
	if _, err := fmt.Fprintln(w, Count(results)); err != nil {
		return fmt.Errorf("write requirement table: %w", err)
	}
	return nil
}

// oneLine keeps a cell on its row: line breaks and tabs become spaces.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
