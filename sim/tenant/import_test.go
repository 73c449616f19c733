package tenant

import (
	"os"
	"path/filepath"
	"testing"
)

// readSources reads every file of dirs as an import source.
func readSources(t *testing.T, paths ...string) []Source {
	t.Helper()
	var out []Source
	for _, p := range paths {
		files := []string{p}
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			files, _ = filepath.Glob(filepath.Join(p, "*.json"))
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, Source{Name: f, Data: data})
		}
	}
	return out
}

func TestImportScratch(t *testing.T) {
	im, err := Import(readSources(t, os.Getenv("IMPDIR")), ImportOptions{Output: filepath.Join(t.TempDir(), "t.yaml")})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", im.File)
}
