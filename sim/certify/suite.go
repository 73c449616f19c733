package certify

import (
	"bytes"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	gherkin "github.com/cucumber/gherkin/go/v26"
	messages "github.com/cucumber/messages/go/v21"
)

// Pickle is one scenario the suite would run (one row of an outline).
type Pickle struct {
	URI  string
	Name string
	// Line is the line of its Scenario or Scenario Outline keyword: a
	// godog path "URI:Line" selects it (with the outline's other rows).
	Line int64
	// Tags are its tags with the feature's and its examples', with "@".
	Tags []string
}

// Pickles parses every .feature file of fsys as godog does.
func Pickles(fsys fs.FS) ([]Pickle, error) {
	var out []Pickle
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".feature") {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		ids := (&messages.Incrementing{}).NewId
		doc, err := gherkin.ParseGherkinDocument(bytes.NewReader(b), ids)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		lines := scenarioLines(doc.Feature)
		for _, pk := range gherkin.Pickles(*doc, p, ids) {
			var tags []string
			for _, t := range pk.Tags {
				tags = append(tags, t.Name)
			}
			out = append(out, Pickle{URI: p, Name: pk.Name, Line: lines[pk.AstNodeIds[0]], Tags: tags})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("parse features: %w", err)
	}
	return out, nil
}

// scenarioLines maps each scenario's AST id to its keyword's line.
func scenarioLines(f *messages.Feature) map[string]int64 {
	out := map[string]int64{}
	if f == nil {
		return out
	}
	var walk func(children []*messages.FeatureChild)
	walk = func(children []*messages.FeatureChild) {
		for _, c := range children {
			if c.Scenario != nil {
				out[c.Scenario.Id] = c.Scenario.Location.Line
			}
			if c.Rule != nil {
				for _, rc := range c.Rule.Children {
					if rc.Scenario != nil {
						out[rc.Scenario.Id] = rc.Scenario.Location.Line
					}
				}
			}
		}
	}
	walk(f.Children)
	return out
}

// Paths returns the godog paths ("URI:LINE", sorted, each once) that
// select the named scenarios of uri: the scenarios certification runs
// again in the pairings with the reference agent.
func Paths(pickles []Pickle, scenarios map[string][]string) []string {
	var out []string
	for _, p := range pickles {
		if slices.Contains(scenarios[p.URI], p.Name) {
			path := fmt.Sprintf("%s:%d", p.URI, p.Line)
			if !slices.Contains(out, path) {
				out = append(out, path)
			}
		}
	}
	slices.Sort(out)
	return out
}

// HasTag reports whether the pickle carries tag (with "@").
func (p Pickle) HasTag(tag string) bool { return slices.Contains(p.Tags, tag) }
