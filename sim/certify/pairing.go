package certify

import (
	"fmt"
	"strings"

	"github.com/c2clab/c2clab/sim/report"
)

// Pairing names: T is the agent under test, R the reference agent, the
// source end first (docs/CERTIFICATION.md).
const (
	PairingTT = "T->T"
	PairingTR = "T->R"
	PairingRT = "R->T"
)

// Run is one pairing's run of the profile: the Cucumber results of the
// scenarios it ran.
type Run struct {
	Pairing  string
	Features []report.Feature
}

// PairingSummary counts one pairing's scenarios in the report.
type PairingSummary struct {
	Pairing string `json:"pairing"`
	// Source and Destination say which agent ran on each end.
	Source      string `json:"source"`
	Destination string `json:"destination"`
	Passed      int    `json:"passed"`
	Failed      int    `json:"failed"`
	Skipped     int    `json:"skipped"`
}

// Summaries counts each run's scenarios.
func Summaries(runs []Run) []PairingSummary {
	var out []PairingSummary
	for _, r := range runs {
		src, dst, _ := strings.Cut(r.Pairing, "->")
		s := PairingSummary{Pairing: r.Pairing, Source: agentName(src), Destination: agentName(dst)}
		for _, f := range r.Features {
			for _, sc := range f.Scenarios {
				switch sc.Status() {
				case report.Passed:
					s.Passed++
				case report.Skipped:
					s.Skipped++
				default:
					s.Failed++
				}
			}
		}
		out = append(out, s)
	}
	return out
}

func agentName(end string) string {
	if end == "R" {
		return "reference agent"
	}
	return "agent under test"
}

// pairingSuffix marks a scenario's name with its pairing while the runs
// are merged for judging; taken off again before the report is written.
func pairingSuffix(p string) string {
	if p == "" {
		return ""
	}
	return " [" + p + "]"
}

// Merge returns the runs' features as one list, each scenario's name
// marked with its pairing, and each feature's URI without the ":LINE" a
// selection by line leaves on it.
func Merge(runs []Run) []report.Feature {
	var out []report.Feature
	for _, r := range runs {
		for _, f := range r.Features {
			f.URI = StripLine(f.URI)
			scs := make([]report.Scenario, len(f.Scenarios))
			for i, s := range f.Scenarios {
				s.Name += pairingSuffix(r.Pairing)
				scs[i] = s
			}
			f.Scenarios = scs
			out = append(out, f)
		}
	}
	return out
}

// unmark splits a merged scenario name into the name and its pairing.
func unmark(name string) (string, string) {
	i := strings.LastIndex(name, " [")
	if i < 0 || !strings.HasSuffix(name, "]") {
		return name, ""
	}
	return name[:i], name[i+2 : len(name)-1]
}

// StripLine takes the ":LINE" off a feature path selected by line.
func StripLine(uri string) string {
	if i := strings.LastIndexByte(uri, ':'); i > 0 && strings.Trim(uri[i+1:], "0123456789") == "" && i+1 < len(uri) {
		return uri[:i]
	}
	return uri
}

// interop judges CERT-1 from the scenarios run with the reference agent
// on one end: it passes only when there is at least one and all passed.
func interop(req Requirement, summary string, results []Result) Result {
	var refs []report.ScenarioRef
	var scs []Scenario
	seen := map[string]bool{}
	for _, r := range results {
		for _, s := range r.Scenarios {
			key := fmt.Sprintf("%s|%s:%d:%s", s.Pairing, s.File, s.Line, s.Name)
			if s.Pairing == PairingTT || s.Pairing == "" || seen[key] {
				continue
			}
			seen[key] = true
			refs = append(refs, report.ScenarioRef{Feature: s.Feature, URI: s.File, Name: s.Name + pairingSuffix(s.Pairing), Line: s.Line, Status: s.Status, Reason: s.Reason})
			scs = append(scs, s)
		}
	}
	rr := report.Judge(report.Requirement{ID: req.ID, Summary: summary}, refs)
	if len(refs) == 0 {
		rr.Reason = "no scenario carried a connection with the reference agent on one end"
	}
	return Result{Requirement: req, Summary: summary, Verdict: rr.Verdict, Reason: rr.Reason, Scenarios: scs}
}
