package lab

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Run is a run directory found on disk, live or left by a crashed run.
type Run struct {
	ID  string
	Dir string
	// Owner is the PID of the process that made the run, 0 if unknown.
	Owner int
	// Live reports whether the owner still runs.
	Live bool
	// Nodes maps node name to PID, from the ready files.
	Nodes map[string]int
}

// ownerFile holds the PID of the process that created the run.
const ownerFile = "owner.pid"

func writeOwnerPID(dir string) error {
	return os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o600)
}

// ClaimRun marks run id live for this process, for what is not a lab but
// carries a run ID (a suite's shared container image, a scenario's agent
// image, which running labs use): it makes TMPDIR/c2clab-ID with this
// process as its owner, which Runs reports live, and marks the run live
// machine-wide (markLive), so no lab down --all takes it for an orphan's,
// whatever its TMPDIR. release removes both. After a crash the claim is a
// crashed run that lab down --all sweeps by its ID.
func ClaimRun(id string) (release func(), err error) { return claimElsewhere(id, "") }

// claimRunDir writes this process as the owner of dir (TMPDIR/c2clab-ID)
// and marks the run live; unmark removes the mark, the caller removes dir.
func claimRunDir(dir string) (unmark func(), err error) {
	if err := writeOwnerPID(dir); err != nil {
		return nil, err
	}
	return markLive(strings.TrimPrefix(filepath.Base(dir), "c2clab-"))
}

// claimElsewhere keeps lab down --all off a live run whose directory is
// not TMPDIR/c2clab-ID (Spec.Dir set, or a test's own directory): Runs and
// Orphans look only there, so a lab down --all beside it would take the
// run's containers, images and namespaces for an orphan's and remove them
// under it. It claims TMPDIR/c2clab-ID for this process (claimRunDir);
// release removes the claim. After a crash the claim is a crashed run that
// lab down --all sweeps by its ID.
func claimElsewhere(id, dir string) (release func(), err error) {
	claim := filepath.Join(os.TempDir(), "c2clab-"+id)
	if filepath.Clean(dir) == claim {
		return markLive(id)
	}
	if err := os.Mkdir(claim, 0o700); err != nil {
		return nil, fmt.Errorf("lab: claim run %s: %w", id, err)
	}
	unmark, err := claimRunDir(claim)
	if err != nil {
		os.RemoveAll(claim)
		return nil, fmt.Errorf("lab: claim run %s: %w", id, err)
	}
	return func() { unmark(); os.RemoveAll(claim) }, nil
}

// Runs lists the run directories under dir ("" = os.TempDir()).
func Runs(dir string) ([]Run, error) {
	matches, err := filepath.Glob(filepath.Join(orTemp(dir), "c2clab-"+RunIDPrefix+"*"))
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	var runs []Run
	for _, m := range matches {
		id := strings.TrimPrefix(filepath.Base(m), "c2clab-")
		if !ValidRunID(id) {
			continue
		}
		runs = append(runs, readRun(id, m))
	}
	return runs, nil
}

func readRun(id, dir string) Run {
	r := Run{ID: id, Dir: dir, Nodes: map[string]int{}}
	if b, err := os.ReadFile(filepath.Join(dir, ownerFile)); err == nil {
		r.Owner, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		r.Live = r.Owner > 0 && processMentions(r.Owner, "")
	}
	readies, _ := filepath.Glob(filepath.Join(dir, "*.ready"))
	for _, f := range readies {
		var rd Ready
		if readJSON(f, &rd) == nil && rd.PID > 0 {
			r.Nodes[strings.TrimSuffix(filepath.Base(f), ".ready")] = rd.PID
		}
	}
	return r
}

// Sweep removes a run: it kills the run's node processes (only processes
// whose command line names the run directory, so a reused PID is never
// hit), then deletes the directory and the keys in it.
func Sweep(r Run) error {
	var errs []error
	for name, pid := range r.Nodes {
		if !processMentions(pid, r.Dir) {
			continue
		}
		if err := killPID(pid); err != nil {
			errs = append(errs, fmt.Errorf("sweep %s: kill node %q (pid %d): %w", r.ID, name, pid, err))
		}
		waitGone(pid, 2*time.Second)
	}
	if err := sweepNetwork(r.ID); err != nil {
		errs = append(errs, fmt.Errorf("sweep %s: network: %w", r.ID, err))
	}
	if err := sweepContainers(r.ID); err != nil {
		errs = append(errs, fmt.Errorf("sweep %s: containers: %w", r.ID, err))
	}
	if err := unmarkLive(r.ID); err != nil {
		errs = append(errs, fmt.Errorf("sweep %s: %w", r.ID, err))
	}
	if r.Dir != "" { // an orphan has none
		if err := os.RemoveAll(r.Dir); err != nil {
			errs = append(errs, fmt.Errorf("sweep %s: %w", r.ID, err))
		}
	}
	return errors.Join(errs...)
}

// processMentions reports whether pid runs and its command line contains
// s ("" = just runs).
func processMentions(pid int, s string) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	return s == "" || bytes.Contains(b, []byte(s))
}

// waitGone waits up to d for pid to exit and reports whether it has.
func waitGone(pid int, d time.Duration) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if !running(pid) {
			return true
		}
	}
	return !running(pid)
}
