// Package report turns the Cucumber JSON of a godog run into per-requirement
// verdicts and writes them as a text table, a self-contained HTML page and
// JUnit XML. It builds on godog's own "cucumber" formatter rather than on
// godog's internals, so any Cucumber JSON (godog, cucumber-ruby, cucumber-js)
// can be reported.
//
// godog records no message for a step that returns godog.ErrSkip; a step
// that wants its reason reported attaches it first, as a text/plain
// attachment named SkipAttachment (godog.Attach), which the cucumber
// formatter stores as an embedding of that step.
package report

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"
)

// SkipAttachment is the name of the text/plain attachment that carries the
// reason a step skipped its scenario.
const SkipAttachment = "skip-reason"

// EvidenceAttachment is the name of the text/plain attachment that carries
// what a step measured or saw (figures, status codes), one item a line.
const EvidenceAttachment = "evidence"

// Status is a step or scenario result as Cucumber JSON spells it.
type Status string

const (
	Passed    Status = "passed"
	Failed    Status = "failed"
	Skipped   Status = "skipped"
	Undefined Status = "undefined"
	Pending   Status = "pending"
	Ambiguous Status = "ambiguous"
)

// Feature is one feature file's results.
type Feature struct {
	URI         string
	ID          string
	Keyword     string
	Name        string
	Description string
	Line        int
	Tags        []string // with the "@"
	Scenarios   []Scenario
}

// Scenario is one executed scenario (one row of an outline).
type Scenario struct {
	ID          string
	Keyword     string
	Name        string
	Description string
	Line        int
	// Tags are the scenario's tags with the feature's, as godog writes them
	// (feature tags are added here when another tool leaves them out).
	Tags  []string
	Steps []Step // background steps first
	// Hooks are before/after hook results, as cucumber-ruby reports them;
	// godog reports a failing hook on a step instead.
	Hooks []Step
}

// Step is one step's result.
type Step struct {
	Keyword     string
	Name        string
	Line        int
	Status      Status
	Duration    time.Duration
	Error       string
	DocString   string
	Rows        [][]string
	Attachments []Attachment
}

// Attachment is an embedding of a step (godog.Attach).
type Attachment struct {
	Name     string
	MimeType string
	Data     []byte
}

// Status is failed if any step or hook failed, is undefined, pending or
// ambiguous (or has a status this package does not know); skipped if any
// skipped and none failed, or if the scenario has no steps; else passed.
func (s *Scenario) Status() Status {
	st := Passed
	if len(s.Steps) == 0 {
		st = Skipped
	}
	for _, step := range slices.Concat(s.Steps, s.Hooks) {
		switch step.Status {
		case Passed:
		case Skipped:
			st = Skipped
		default:
			return Failed
		}
	}
	return st
}

// Duration is the sum of the step and hook durations.
func (s *Scenario) Duration() time.Duration {
	var d time.Duration
	for _, step := range slices.Concat(s.Steps, s.Hooks) {
		d += step.Duration
	}
	return d
}

// Reason explains a failed or skipped scenario: the first failing step and
// its error, or the skip reason (the first skipped step's error message, else
// its SkipAttachment), or "" when none is recorded.
func (s *Scenario) Reason() string {
	switch s.Status() {
	case Failed:
		for _, step := range slices.Concat(s.Steps, s.Hooks) {
			switch {
			case step.Status == Failed && step.Error != "":
				return stepLabel(step) + ": " + step.Error
			case step.Status != Passed && step.Status != Skipped:
				return stepLabel(step) + ": " + string(step.Status) + optional(": ", step.Error)
			}
		}
	case Skipped:
		if len(s.Steps) == 0 {
			return "scenario has no steps"
		}
		for _, step := range s.Steps {
			if step.Status == Skipped {
				if step.Error != "" {
					return step.Error
				}
				return step.skipAttachment()
			}
		}
	}
	return ""
}

func (st *Step) skipAttachment() string {
	for _, a := range st.Attachments {
		if a.Name == SkipAttachment {
			return string(a.Data)
		}
	}
	return ""
}

func stepLabel(st Step) string { return st.Keyword + st.Name }

func optional(sep, s string) string {
	if s == "" {
		return ""
	}
	return sep + s
}

// The Cucumber JSON shape, as godog's cucumber formatter writes it.
type (
	cukeFeature struct {
		URI         string        `json:"uri"`
		ID          string        `json:"id"`
		Keyword     string        `json:"keyword"`
		Name        string        `json:"name"`
		Description string        `json:"description"`
		Line        int           `json:"line"`
		Tags        []cukeTag     `json:"tags"`
		Elements    []cukeElement `json:"elements"`
	}
	cukeTag     struct{ Name string }
	cukeElement struct {
		ID          string     `json:"id"`
		Keyword     string     `json:"keyword"`
		Name        string     `json:"name"`
		Description string     `json:"description"`
		Line        int        `json:"line"`
		Type        string     `json:"type"`
		Tags        []cukeTag  `json:"tags"`
		Steps       []cukeStep `json:"steps"`
		Before      []cukeStep `json:"before"`
		After       []cukeStep `json:"after"`
	}
	cukeStep struct {
		Keyword    string                     `json:"keyword"`
		Name       string                     `json:"name"`
		Line       int                        `json:"line"`
		Result     cukeResult                 `json:"result"`
		DocString  *struct{ Value string }    `json:"doc_string"`
		Rows       []struct{ Cells []string } `json:"rows"`
		Embeddings []cukeEmbedding            `json:"embeddings"`
	}
	cukeResult struct {
		Status   string `json:"status"`
		Error    string `json:"error_message"`
		Duration int64  `json:"duration"` // nanoseconds
	}
	cukeEmbedding struct {
		Name     string `json:"name"`
		MimeType string `json:"mime_type"`
		Data     string `json:"data"` // base64
	}
)

// ParseCucumber reads a Cucumber JSON report: an array of features with
// their elements (scenarios, and backgrounds, whose steps go to the next
// scenario), tags, steps and results.
func ParseCucumber(r io.Reader) ([]Feature, error) {
	var raw []cukeFeature
	if err := json.NewDecoder(r).Decode(&raw); err != nil {
		return nil, fmt.Errorf("parse cucumber json: %w", err)
	}
	features := make([]Feature, 0, len(raw))
	for _, rf := range raw {
		f := Feature{URI: rf.URI, ID: rf.ID, Keyword: rf.Keyword, Name: rf.Name, Description: rf.Description, Line: rf.Line, Tags: tagNames(rf.Tags)}
		var background []Step
		for _, e := range rf.Elements {
			steps := convertSteps(e.Steps)
			if e.Type == "background" {
				background = append(background, steps...)
				continue
			}
			f.Scenarios = append(f.Scenarios, Scenario{
				ID: e.ID, Keyword: e.Keyword, Name: e.Name, Description: e.Description, Line: e.Line,
				Tags:  mergeTags(f.Tags, tagNames(e.Tags)),
				Steps: slices.Concat(background, steps),
				Hooks: convertSteps(slices.Concat(e.Before, e.After)),
			})
			background = nil
		}
		features = append(features, f)
	}
	return features, nil
}

func tagNames(tags []cukeTag) []string {
	var names []string
	for _, t := range tags {
		names = append(names, t.Name)
	}
	return names
}

// mergeTags returns the feature's tags and then the scenario's, without
// duplicates (godog already includes the feature's).
func mergeTags(feature, scenario []string) []string {
	var out []string
	for _, t := range slices.Concat(feature, scenario) {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

func convertSteps(in []cukeStep) []Step {
	var out []Step
	for _, s := range in {
		st := Step{Keyword: s.Keyword, Name: s.Name, Line: s.Line, Status: Status(s.Result.Status),
			Duration: time.Duration(s.Result.Duration), Error: s.Result.Error}
		if s.DocString != nil {
			st.DocString = s.DocString.Value
		}
		for _, r := range s.Rows {
			st.Rows = append(st.Rows, r.Cells)
		}
		for _, e := range s.Embeddings {
			data, err := base64.StdEncoding.DecodeString(e.Data)
			if err != nil {
				data = []byte(e.Data) // not base64: keep what was written
			}
			st.Attachments = append(st.Attachments, Attachment{Name: e.Name, MimeType: e.MimeType, Data: data})
		}
		out = append(out, st)
	}
	return out
}
