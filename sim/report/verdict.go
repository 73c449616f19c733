package report

import (
	"fmt"
	"slices"
	"strings"
)

// Verdict is a requirement's result over the scenarios that carry its tag.
type Verdict string

const (
	VerdictPassed  Verdict = "passed"  // at least one scenario, all passed
	VerdictFailed  Verdict = "failed"  // a scenario failed (or is undefined, pending, ambiguous)
	VerdictSkipped Verdict = "skipped" // none failed, but some skipped: not proven
	VerdictMissing Verdict = "missing" // no scenario carries the tag
)

// ScenarioRef is one scenario as a requirement sees it.
type ScenarioRef struct {
	Feature string // feature name
	URI     string // feature file
	Name    string
	Line    int
	Status  Status
	Reason  string // why it failed or skipped; see Scenario.Reason
}

// RequirementResult is one row of the certification table.
type RequirementResult struct {
	Requirement
	Verdict   Verdict
	Scenarios []ScenarioRef
	// Reason explains a verdict other than passed.
	Reason string
	// Uncatalogued: a scenario carries this ID as a tag but the catalogue
	// does not list it (a typo, or a catalogue out of date).
	Uncatalogued bool
}

// Passed counts the passed scenarios.
func (r RequirementResult) Passed() int {
	n := 0
	for _, s := range r.Scenarios {
		if s.Status == Passed {
			n++
		}
	}
	return n
}

// Requirements gives each catalogued requirement its verdict from the
// scenarios tagged with its ID (tag "@ID"), in catalogue order, followed by
// the IDs that scenarios carry but the catalogue lacks (tags that look like
// requirement IDs, such as @HV-7), sorted and marked Uncatalogued.
//
// A requirement passes when it has scenarios and all passed; fails when any
// failed; is skipped when none failed but some skipped, even if others
// passed, since a skipped scenario proves nothing; is missing without
// scenarios.
func Requirements(features []Feature, catalogue []Requirement) []RequirementResult {
	byID := make(map[string][]ScenarioRef)
	for _, f := range features {
		for _, s := range f.Scenarios {
			ref := ScenarioRef{Feature: f.Name, URI: f.URI, Name: s.Name, Line: s.Line, Status: s.Status(), Reason: s.Reason()}
			for _, id := range requirementTags(s.Tags) {
				byID[id] = append(byID[id], ref)
			}
		}
	}
	var out []RequirementResult
	known := make(map[string]bool)
	for _, req := range catalogue {
		known[req.ID] = true
		out = append(out, judge(req, byID[req.ID]))
	}
	var extra []string
	for id := range byID {
		if !known[id] {
			extra = append(extra, id)
		}
	}
	slices.Sort(extra)
	for _, id := range extra {
		r := judge(Requirement{ID: id, Summary: "(not in the requirements catalogue)"}, byID[id])
		r.Uncatalogued = true
		out = append(out, r)
	}
	return out
}

// requirementTags returns the IDs of the requirement tags, each once.
func requirementTags(tags []string) []string {
	var ids []string
	for _, t := range tags {
		if m := idTagRe.FindStringSubmatch(t); m != nil && !slices.Contains(ids, m[1]) {
			ids = append(ids, m[1])
		}
	}
	return ids
}

func judge(req Requirement, scenarios []ScenarioRef) RequirementResult {
	r := RequirementResult{Requirement: req, Scenarios: scenarios}
	if len(scenarios) == 0 {
		r.Verdict, r.Reason = VerdictMissing, "no scenario is tagged @"+req.ID
		return r
	}
	var failed, skipped []ScenarioRef
	for _, s := range scenarios {
		switch s.Status {
		case Passed:
		case Skipped:
			skipped = append(skipped, s)
		default:
			failed = append(failed, s)
		}
	}
	switch {
	case len(failed) > 0:
		r.Verdict = VerdictFailed
		r.Reason = fmt.Sprintf("%d of %d scenarios failed; first: %q%s", len(failed), len(scenarios), failed[0].Name, optional(": ", failed[0].Reason))
	case len(skipped) > 0:
		r.Verdict = VerdictSkipped
		r.Reason = fmt.Sprintf("%d of %d scenarios skipped%s", len(skipped), len(scenarios), optional(": ", skipReasons(skipped)))
	default:
		r.Verdict = VerdictPassed
	}
	return r
}

// skipReasons lists the distinct reasons given, in order.
func skipReasons(skipped []ScenarioRef) string {
	var reasons []string
	for _, s := range skipped {
		if s.Reason != "" && !slices.Contains(reasons, s.Reason) {
			reasons = append(reasons, s.Reason)
		}
	}
	return strings.Join(reasons, "; ")
}

// Counts tallies verdicts.
type Counts struct {
	Passed, Failed, Skipped, Missing int
}

// Count tallies the verdicts of results.
func Count(results []RequirementResult) Counts {
	var c Counts
	for _, r := range results {
		switch r.Verdict {
		case VerdictPassed:
			c.Passed++
		case VerdictFailed:
			c.Failed++
		case VerdictSkipped:
			c.Skipped++
		case VerdictMissing:
			c.Missing++
		}
	}
	return c
}

func (c Counts) String() string {
	return fmt.Sprintf("%d passed, %d failed, %d skipped, %d missing", c.Passed, c.Failed, c.Skipped, c.Missing)
}

// Judge gives req its verdict from scenarios by the rules of
// Requirements; a report checker calls it to recompute a recorded verdict.
func Judge(req Requirement, scenarios []ScenarioRef) RequirementResult { return judge(req, scenarios) }
