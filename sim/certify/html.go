package certify

import (
	"fmt"
	"io"

	"github.com/c2clab/c2clab/sim/report"
)

// WriteHTML writes the report as one self-contained page: the verdict, the
// connector's identity and the environment above the requirement table
// (each marked mandatory or optional) and every scenario with its steps
// and evidence.
func (r Report) WriteHTML(w io.Writer, feats []report.Feature, catalogue []report.Requirement) error {
	meta := []report.Field{
		{Name: "Verdict", Value: r.Verdict},
		{Name: "Connector", Value: fmt.Sprintf("%s %s by %s", r.Connector.Name, r.Connector.Version, r.Connector.Vendor)},
		{Name: "Agent command", Value: r.Connector.Command},
		{Name: "Agent SHA-256", Value: r.Connector.SHA256},
		{Name: "Product page", Value: r.Connector.URL},
		{Name: "Contact", Value: r.Connector.Contact},
		{Name: "Mode", Value: r.Mode},
		{Name: "Profile", Value: r.Suite.Profile},
		{Name: "Features SHA-256", Value: r.Suite.FeaturesSHA256},
		{Name: "Environment", Value: fmt.Sprintf("%s/%s, kernel %s, %d CPUs, %s", r.Environment.OS, r.Environment.Arch, r.Environment.Kernel, r.Environment.CPUs, r.Environment.GoVersion)},
	}
	for _, p := range r.Pairings {
		meta = append(meta, report.Field{Name: "Pairing " + p.Pairing, Value: fmt.Sprintf("source: %s, destination: %s; %d passed, %d failed, %d skipped", p.Source, p.Destination, p.Passed, p.Failed, p.Skipped)})
	}
	meta = append(meta, report.Field{Name: "Reproduce", Value: r.Reproduce})
	for _, d := range r.Denied {
		meta = append(meta, report.Field{Name: "Denied by", Value: d})
	}
	byID := map[string]report.Requirement{}
	for _, c := range catalogue {
		byID[c.ID] = c
	}
	rows := make([]report.RequirementResult, 0, len(r.Requirements))
	for _, res := range r.Requirements {
		req := byID[res.ID]
		kind := "optional"
		if res.Mandatory {
			kind = "mandatory"
		}
		req.Summary = fmt.Sprintf("[%s] %s. Judged: the agent %s.", kind, req.Summary, res.Why)
		rr := report.RequirementResult{Requirement: req, Verdict: res.Verdict, Reason: res.Reason}
		for _, s := range res.Scenarios {
			rr.Scenarios = append(rr.Scenarios, report.ScenarioRef{Feature: s.Feature, URI: s.File, Name: s.Name + pairingSuffix(s.Pairing), Line: s.Line, Status: s.Status, Reason: s.Reason})
		}
		rows = append(rows, rr)
	}
	return report.WriteHTML(w, report.Summary{
		Title: "c2clab certification: " + r.Verdict, Version: r.Suite.Version, Backend: r.Suite.Backend,
		Started: r.Started, Duration: r.Duration, Meta: meta, Features: feats, Requirements: rows,
	})
}
