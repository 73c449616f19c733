package steps

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// mergeCucumber writes the Cucumber JSON reports of a run's phases as one
// report to path and removes them. A feature file with scenarios in more
// than one phase appears once, its elements in phase order; each phase's
// elements keep their own order, so a background still precedes the
// scenarios it belongs to (report.ParseCucumber relies on that). Every
// member godog wrote is kept as it was.
func mergeCucumber(path string, phases []string) error {
	var merged []map[string]json.RawMessage
	byURI := map[string]int{}
	for _, p := range phases {
		data, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) || (err == nil && len(bytes.TrimSpace(data)) == 0) {
			continue // a phase that selected no scenario
		}
		if err != nil {
			return fmt.Errorf("report: %w", err)
		}
		var feats []map[string]json.RawMessage
		if err := json.Unmarshal(data, &feats); err != nil {
			return fmt.Errorf("report: %s: %w", p, err)
		}
		for _, f := range feats {
			var uri string
			json.Unmarshal(f["uri"], &uri)
			i, seen := byURI[uri]
			if !seen {
				byURI[uri] = len(merged)
				merged = append(merged, f)
				continue
			}
			var have, more []json.RawMessage
			json.Unmarshal(merged[i]["elements"], &have)
			if err := json.Unmarshal(f["elements"], &more); err != nil {
				return fmt.Errorf("report: %s: feature %s: elements: %w", p, uri, err)
			}
			els, _ := json.Marshal(append(have, more...))
			merged[i]["elements"] = els
		}
	}
	if merged == nil {
		merged = []map[string]json.RawMessage{}
	}
	out, err := json.MarshalIndent(merged, "", "    ")
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	for _, p := range phases {
		os.Remove(p)
	}
	return nil
}
