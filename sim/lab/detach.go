package lab

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// detachedFile marks a run whose owner is a detached `lab up`: it holds
// the table the owner printed, so `lab status RUN` can show it again, and
// it tells `lab down RUN` that stopping the owner is how the run ends.
const detachedFile = "detached.json"

// stopTimeout bounds how long Stop waits for a detached owner to close its
// lab: every node gets stopGrace, stopped in reverse order, and on
// kubernetes the owner then waits up to kubeTimeout for the run's
// namespace to go (10 s here; a busier cluster takes longer). An owner
// that closes quickly is not waited for longer.
const stopTimeout = 30*time.Second + kubeTimeout

// MarkDetached records that this lab's owner runs detached, with the table
// it printed.
func (l *Lab) MarkDetached(table any) error {
	return writeJSON(l.path(detachedFile), table)
}

// Detached reports whether the run's owner is a detached `lab up`.
func (r Run) Detached() bool {
	_, err := os.Stat(filepath.Join(r.Dir, detachedFile))
	return r.Dir != "" && err == nil
}

// Table reads the table a detached owner recorded into v.
func (r Run) Table(v any) error {
	if err := readJSON(filepath.Join(r.Dir, detachedFile), v); err != nil {
		return fmt.Errorf("run %s: not a detached lab (no %s): %w", r.ID, detachedFile, err)
	}
	return nil
}

// Stop ends a run. A live detached owner is asked to stop (SIGTERM), which
// closes its lab cleanly: nodes in reverse order, network, run directory.
// Whatever is left then, or of a run without a live detached owner, is
// swept (Sweep).
func Stop(r Run) error {
	if r.Live && r.Detached() && processMentions(r.Owner, "lab") {
		if err := syscall.Kill(r.Owner, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("stop %s: signal owner %d: %w", r.ID, r.Owner, err)
		}
		if !waitGone(r.Owner, stopTimeout) {
			return fmt.Errorf("stop %s: owner %d still runs %v after SIGTERM; lab down %s again sweeps it", r.ID, r.Owner, stopTimeout, r.ID)
		}
	}
	return Sweep(r)
}

// running reports whether pid is a process that has not exited: a zombie
// (exited, not yet reaped by its parent) counts as gone.
func running(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses and may
	// hold spaces: "PID (comm) S ...".
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}
