package certify

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/c2clab/c2clab/sim/report"
)

// Verdicts of a whole report.
const (
	Certified    = "Certified"
	NotCertified = "Not certified"
)

// Identity names the connector under test.
type Identity struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Vendor  string `json:"vendor"`
	// Command is the agent command the lab started; SHA256 is its binary's.
	Command string `json:"command"`
	SHA256  string `json:"sha256"`
	// URL is the product's page, Contact who answers for it.
	URL     string `json:"url,omitempty"`
	Contact string `json:"contact,omitempty"`
}

// Suite identifies what judged it: c2clab's version and the feature files.
type Suite struct {
	Version        string `json:"version"`
	FeaturesSHA256 string `json:"featuresSha256"`
	Profile        string `json:"profile"`
	Backend        string `json:"backend"`
}

// Environment is the machine the run took place on.
type Environment struct {
	OS        string `json:"os"`
	Arch      string `json:"arch"`
	Kernel    string `json:"kernel"`
	CPUs      int    `json:"cpus"`
	GoVersion string `json:"goVersion"`
}

// Scenario is one scenario's result with what it recorded.
type Scenario struct {
	Name string `json:"name"`
	// Pairing is the pairing it ran in (PairingTT, PairingTR, PairingRT).
	Pairing  string        `json:"pairing"`
	Feature  string        `json:"feature"`
	File     string        `json:"file"`
	Line     int           `json:"line"`
	Status   report.Status `json:"status"`
	Reason   string        `json:"reason,omitempty"`
	Evidence []string      `json:"evidence,omitempty"`
}

// Result is one requirement's verdict.
type Result struct {
	Requirement
	Summary   string         `json:"summary"`
	Verdict   report.Verdict `json:"verdict"`
	Reason    string         `json:"reason,omitempty"`
	Scenarios []Scenario     `json:"scenarios"`
}

// Report is what `c2clab certify` writes.
type Report struct {
	Verdict string `json:"verdict"`
	// Denied lists, for a report that is not Certified, each mandatory
	// requirement that did not pass and why.
	Denied    []string `json:"denied,omitempty"`
	Connector Identity `json:"connector"`
	// Mode is how the agent was given: "agent-cmd" or "agent-image".
	Mode        string        `json:"mode"`
	Suite       Suite         `json:"c2clab"`
	Environment Environment   `json:"environment"`
	Started     time.Time     `json:"started"`
	Duration    time.Duration `json:"durationNs"`
	// Pairings counts the scenarios of each pairing (PairingTT first).
	Pairings     []PairingSummary `json:"pairings"`
	Requirements []Result         `json:"requirements"`
	// Reproduce is a command line that runs this certification again.
	Reproduce string `json:"reproduce"`
}

// Interop is the requirement judged from the pairings with the reference
// agent rather than from scenario tags (REQUIREMENTS.md CERT-1).
const Interop = "CERT-1"

// Judge gives each requirement of p its verdict from the scenarios run in
// every pairing, and the report its verdict: Certified only when every
// mandatory requirement passed. A requirement passes only when every
// scenario tagged with it passed in every pairing it ran in.
func Judge(p Profile, runs []Run, catalogue []report.Requirement) (verdict string, denied []string, results []Result) {
	feats := Merge(runs)
	evidence := evidenceByScenario(feats)
	summaries := map[string]string{}
	for _, rr := range report.Requirements(feats, catalogue) {
		summaries[rr.ID] = rr.Summary
		req, ok := p.Requirement(rr.ID)
		if !ok || rr.ID == Interop {
			continue
		}
		r := Result{Requirement: req, Summary: rr.Summary, Verdict: rr.Verdict, Reason: rr.Reason}
		for _, s := range rr.Scenarios {
			name, pairing := unmark(s.Name)
			r.Scenarios = append(r.Scenarios, Scenario{Name: name, Pairing: pairing, Feature: s.Feature, File: s.URI, Line: s.Line,
				Status: s.Status, Reason: s.Reason, Evidence: evidence[scenarioKey(s.URI, s.Line, s.Name)]})
		}
		results = append(results, r)
	}
	if req, ok := p.Requirement(Interop); ok {
		if _, known := summaries[Interop]; known {
			results = append(results, interop(req, summaries[Interop], results))
		}
	}
	for _, r := range results {
		if r.Mandatory && r.Verdict != report.VerdictPassed {
			denied = append(denied, fmt.Sprintf("%s %s: %s", r.ID, r.Verdict, r.Reason))
		}
	}
	for _, req := range p.Requirements {
		if !slices.ContainsFunc(results, func(r Result) bool { return r.ID == req.ID }) {
			denied = append(denied, fmt.Sprintf("%s: not in the requirements catalogue", req.ID))
		}
	}
	if len(denied) > 0 {
		return NotCertified, denied, results
	}
	return Certified, nil, results
}

func scenarioKey(uri string, line int, name string) string {
	return fmt.Sprintf("%s:%d:%s", uri, line, name)
}

// evidenceByScenario collects the evidence attachments of every scenario's
// steps, in order.
func evidenceByScenario(feats []report.Feature) map[string][]string {
	out := map[string][]string{}
	for _, f := range feats {
		for _, s := range f.Scenarios {
			var lines []string
			for _, st := range s.Steps {
				for _, a := range st.Attachments {
					if a.Name == report.EvidenceAttachment {
						lines = append(lines, strings.Split(string(a.Data), "\n")...)
					}
				}
			}
			out[scenarioKey(f.URI, s.Line, s.Name)] = lines
		}
	}
	return out
}

// WriteJSON writes r, indented.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // pairings read "T->R"
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("certification report: %w", err)
	}
	return nil
}

// FileSHA256 is the hex SHA-256 of a file's content.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("hash %q: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %q: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// FeaturesSHA256 hashes every .feature file of fsys, by path in order
// (path, NUL, length, content), so a report names exactly the scenarios
// that judged the connector.
func FeaturesSHA256(fsys fs.FS) (string, error) {
	var paths []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".feature") {
			paths = append(paths, p)
		}
		return err
	})
	if err != nil {
		return "", fmt.Errorf("hash features: %w", err)
	}
	slices.Sort(paths)
	h := sha256.New()
	for _, p := range paths {
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return "", fmt.Errorf("hash features: %w", err)
		}
		fmt.Fprintf(h, "%s\x00%d\x00", p, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
