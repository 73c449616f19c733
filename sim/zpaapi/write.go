package zpaapi

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// WriteDir writes each body to dir/<Body.File>. dir must not exist or be
// empty: pages of an earlier pull left beside this one's would describe a
// tenant that never was. The bodies are written into a sibling directory
// first and renamed into place, so a failure midway (a full disk) leaves
// no directory holding part of a tenant.
func WriteDir(dir string, bodies []Body) error {
	if err := checkEmpty(dir); err != nil {
		return err
	}
	if err := checkNames(dir, bodies); err != nil {
		return err
	}
	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("zpaapi: write %q: %w", dir, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".partial-")
	if err != nil {
		return fmt.Errorf("zpaapi: write %q: %w", dir, err)
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(tmp)
		}
	}()
	for _, b := range bodies {
		if err := os.WriteFile(filepath.Join(tmp, b.File), b.Data, 0o644); err != nil {
			return fmt.Errorf("zpaapi: write %q: %w", filepath.Join(dir, b.File), err)
		}
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("zpaapi: write %q: %w", dir, err)
	}
	// os.Rename does not replace a directory, even an empty one; os.Remove
	// removes only an empty one, so nothing of anyone's is lost.
	if err := os.Remove(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("zpaapi: write %q: %w", dir, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("zpaapi: write %q: %w", dir, err)
	}
	done = true
	return nil
}

func checkEmpty(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("zpaapi: write %q: %w", dir, err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("zpaapi: write %q: the directory is not empty (%s, ...): give a new or empty directory, so no body of an earlier pull mixes with this one", dir, entries[0].Name())
	}
	return nil
}

func checkNames(dir string, bodies []Body) error {
	seen := map[string]bool{}
	for _, b := range bodies {
		if b.File == "" || b.File != filepath.Base(b.File) || b.File == "." || b.File == ".." || seen[b.File] {
			return fmt.Errorf("zpaapi: write %q: body of %s has file name %q: empty, not a plain name, or given twice", dir, b.Endpoint, b.File)
		}
		seen[b.File] = true
	}
	return nil
}
