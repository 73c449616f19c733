package lab

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// A run whose directory is elsewhere is listed live under TMPDIR while it
// is claimed, so lab down --all (which lists TMPDIR only) leaves it alone,
// and the claim goes with release.
func TestClaimElsewhereKeepsLabDownAllOff(t *testing.T) {
	id, err := NewRunID()
	if err != nil {
		t.Fatal(err)
	}
	live := func() bool {
		runs, err := Runs("")
		if err != nil {
			t.Fatal(err)
		}
		return slices.ContainsFunc(runs, func(r Run) bool { return r.ID == id && r.Live })
	}
	release, err := claimElsewhere(id, filepath.Join(t.TempDir(), "c2clab-"+id))
	if err != nil {
		t.Fatal(err)
	}
	if !live() {
		t.Fatalf("run %s with its directory elsewhere is not listed live under %s while claimed", id, os.TempDir())
	}
	release()
	if live() {
		t.Errorf("run %s is still listed after release", id)
	}
	if _, err := os.Stat(filepath.Join(os.TempDir(), "c2clab-"+id)); !os.IsNotExist(err) {
		t.Errorf("the claim is left after release: %v", err)
	}
}

// A run directory under TMPDIR is its own claim.
func TestClaimElsewhereNeedsNoClaimUnderTMPDIR(t *testing.T) {
	id, err := NewRunID()
	if err != nil {
		t.Fatal(err)
	}
	release, err := claimElsewhere(id, filepath.Join(os.TempDir(), "c2clab-"+id))
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if _, err := os.Stat(filepath.Join(os.TempDir(), "c2clab-"+id)); !os.IsNotExist(err) {
		t.Errorf("a claim was made for a run directory already under TMPDIR: %v", err)
	}
}
