package netlab

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Root runs the CNI plugins, so a directory or binary others could have
// planted or can change is refused.
func TestCheckOwnedRefusesWritableByOthers(t *testing.T) {
	dir := t.TempDir()
	if err := checkOwned(dir); err != nil {
		t.Fatalf("own 0700 directory refused: %v", err)
	}
	bin := filepath.Join(dir, "bridge")
	if err := os.WriteFile(bin, []byte("x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := checkOwned(bin); err != nil {
		t.Fatalf("own 0755 binary refused: %v", err)
	}
	if err := os.Chmod(bin, 0o775); err != nil {
		t.Fatal(err)
	}
	if err := checkOwned(bin); err == nil || !strings.Contains(err.Error(), "writable by group or others") {
		t.Fatalf("group-writable binary: err = %v, want a refusal", err)
	}
	if os.Geteuid() == 0 {
		if err := os.Chown(bin, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		os.Chmod(bin, 0o755)
		if err := checkOwned(bin); err == nil || !strings.Contains(err.Error(), "owned by uid 65534") {
			t.Fatalf("binary of another user: err = %v, want a refusal", err)
		}
	}
}
