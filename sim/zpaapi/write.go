package zpaapi

import (
	"fmt"
	"os"
	"path/filepath"
)

// WriteDir writes each body to dir/<Body.File>, creating dir. dir must be
// new or empty: pages of an earlier pull left beside this one's would
// describe a tenant that never was.
func WriteDir(dir string, bodies []Body) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("zpaapi: write %q: %w", dir, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("zpaapi: write %q: %w", dir, err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("zpaapi: write %q: the directory is not empty (%s, ...): give a new or empty directory, so no body of an earlier pull mixes with this one", dir, entries[0].Name())
	}
	seen := map[string]bool{}
	for _, b := range bodies {
		if b.File == "" || b.File != filepath.Base(b.File) || seen[b.File] {
			return fmt.Errorf("zpaapi: write %q: body of %s has file name %q, empty, not a plain name or given twice", dir, b.Endpoint, b.File)
		}
		seen[b.File] = true
		if err := os.WriteFile(filepath.Join(dir, b.File), b.Data, 0o644); err != nil {
			return fmt.Errorf("zpaapi: write %q: %w", filepath.Join(dir, b.File), err)
		}
	}
	return nil
}
