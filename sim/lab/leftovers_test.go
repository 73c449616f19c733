package lab

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLeftBehindReportsARunDirectoryUntilItIsGone(t *testing.T) {
	made.Lock()
	saved := made.runs
	made.runs = nil
	made.Unlock()
	t.Cleanup(func() { made.Lock(); made.runs = saved; made.Unlock() })

	dir := filepath.Join(t.TempDir(), "c2clab-c2c0ddba1")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	remember("c2c0ddba1", dir)
	left, err := LeftBehind()
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 1 || !strings.Contains(left[0], dir) {
		t.Fatalf("LeftBehind = %q, want the run directory", left)
	}
	os.Remove(dir)
	if left, _ := LeftBehind(); len(left) != 0 {
		t.Fatalf("LeftBehind after removal = %q, want nothing", left)
	}
}
