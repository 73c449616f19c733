package lab

import (
	"fmt"
	"os"
	"os/exec"
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
	live := func() bool { return listedLive(t, id) }
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

// A live run whose directory is under another TMPDIR is no orphan: its
// machine-wide mark says so while its owner runs, and only while.
func TestOrphansSkipsARunMarkedLive(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the mark and the namespace standing for the run's kernel state")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs ip(8)")
	}
	id, err := NewRunID()
	if err != nil {
		t.Fatal(err)
	}
	ns := id + "-orphtest"
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", ns, err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	orphan := func() bool {
		runs, err := Orphans(t.TempDir()) // a TMPDIR without the run's directory
		if err != nil {
			t.Fatal(err)
		}
		return slices.ContainsFunc(runs, func(r Run) bool { return r.ID == id })
	}
	unmark, err := markLive(id)
	if err != nil {
		t.Fatal(err)
	}
	if orphan() {
		t.Errorf("run %s, marked live by this process, is listed as an orphan", id)
	}
	unmark()
	if !orphan() {
		t.Errorf("run %s, its mark gone, is not listed as an orphan: the test proves nothing", id)
	}
}

// A mark outlives its owner only as a stale file: another start time (a
// reused PID) or a process that is gone is not live.
func TestLiveMarkNeedsItsOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: marks live under /run")
	}
	id, err := NewRunID()
	if err != nil {
		t.Fatal(err)
	}
	unmark, err := markLive(id)
	if err != nil {
		t.Fatal(err)
	}
	defer unmark()
	if !markedLive(id) {
		t.Fatalf("run %s is not live right after markLive", id)
	}
	path := filepath.Join(liveRoot, id)
	for _, body := range []string{fmt.Sprintf("%d 1\n", os.Getpid()), "999999999 1\n", "garbage\n"} {
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if markedLive(id) {
			t.Errorf("mark %q counts as live", body)
		}
	}
}

// ClaimRun (a suite's or a scenario's image) is a live run under TMPDIR and
// machine-wide while claimed, and neither after release.
func TestClaimRunIsLiveUntilReleased(t *testing.T) {
	id, err := NewRunID()
	if err != nil {
		t.Fatal(err)
	}
	release, err := ClaimRun(id)
	if err != nil {
		t.Fatal(err)
	}
	live := func() bool { return listedLive(t, id) }
	marked := os.Geteuid() != 0 || markedLive(id) // only root marks
	if !live() || !marked {
		t.Fatalf("claimed run %s: listed live %v, marked live %v; want both", id, live(), marked)
	}
	release()
	if live() || markedLive(id) {
		t.Errorf("run %s is still live after release", id)
	}
}

// listedLive reports whether Runs lists run id under TMPDIR as live.
func listedLive(t *testing.T, id string) bool {
	t.Helper()
	runs, err := Runs("")
	if err != nil {
		t.Fatal(err)
	}
	return slices.ContainsFunc(runs, func(r Run) bool { return r.ID == id && r.Live })
}
