package lab

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// liveRoot holds a mark per live run on this machine, named by its run ID
// and naming its owner process. Run directories live under each process's
// TMPDIR, so a lab down --all with another TMPDIR (another user's shell, a
// test binary given its own) finds no directory for a live run and would
// take what the run made for an orphan's: its namespaces, its containers,
// the image running labs share. The marks are machine-wide, as what a run
// makes is. Only root makes namespaces, links and marks here; a user's run
// has no mark (and no kernel state for another TMPDIR to sweep).
const liveRoot = "/run/c2clab-live"

// markLive records that this process owns run id until unmark is called.
// Without root it does nothing.
func markLive(id string) (unmark func(), err error) {
	if os.Geteuid() != 0 {
		return func() {}, nil
	}
	start, err := procStart(os.Getpid())
	if err != nil {
		return nil, fmt.Errorf("lab: mark run %s live: %w", id, err)
	}
	if err := os.MkdirAll(liveRoot, 0o755); err != nil {
		return nil, fmt.Errorf("lab: mark run %s live: %w", id, err)
	}
	path := filepath.Join(liveRoot, id)
	if err := os.WriteFile(path, fmt.Appendf(nil, "%d %s\n", os.Getpid(), start), 0o644); err != nil {
		return nil, fmt.Errorf("lab: mark run %s live: %w", id, err)
	}
	return func() { os.Remove(path) }, nil
}

// markedLive reports whether run id is marked live by a process that
// still runs (this one included): the same PID with the same start time, so a reused PID does
// not keep a crashed run's mark alive.
func markedLive(id string) bool {
	b, err := os.ReadFile(filepath.Join(liveRoot, id))
	if err != nil {
		return false
	}
	pidField, start, _ := strings.Cut(strings.TrimSpace(string(b)), " ")
	pid, err := strconv.Atoi(pidField)
	if err != nil || pid <= 0 {
		return false
	}
	got, err := procStart(pid)
	return err == nil && got == start && running(pid)
}

// unmarkLive removes run id's mark (a swept run's, whose owner is gone).
func unmarkLive(id string) error {
	if err := os.Remove(filepath.Join(liveRoot, id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// procStart is the start time of process pid in clock ticks since boot,
// field 22 of /proc/PID/stat.
func procStart(pid int) (string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the command name may hold spaces
	f := strings.Fields(s[i+1:])       // from field 3, the state
	if i < 0 || len(f) < 20 {
		return "", fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	return f[19], nil
}
