//go:build unix

package steps

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// timingLock keeps a scenario that measures (steps.SerialTags) from
// sharing the machine with any other scenario of any suite process (go test
// runs several suite binaries side by side): a measuring scenario holds the
// lock exclusively, every other one shared. flock gives no preference to a
// writer, so a measuring scenario first takes a turnstile that the others
// pass through before taking their shared lock: once one waits, no new
// scenario starts until it has run. The files live in the temporary
// directory and stay (like netlab's alloc.lock): removing a lock file
// would let two processes lock different files of one name.
func timingLock(exclusive bool) (unlock func(), err error) {
	gate, err := lockFile("c2clab-timing-turnstile.lock", syscall.LOCK_EX)
	if err != nil {
		return nil, err
	}
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	main, err := lockFile("c2clab-timing.lock", how)
	if !exclusive || err != nil {
		gate.Close() // a shared holder only passes through
	}
	if err != nil {
		return nil, err
	}
	return func() {
		main.Close() // closing releases the lock
		if exclusive {
			gate.Close()
		}
	}, nil
}

// lockDir holds the lock files; a test points it elsewhere.
var lockDir = os.TempDir()

// lockFile opens name in lockDir and flocks it (blocking).
func lockFile(name string, how int) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(lockDir, name), os.O_CREATE|os.O_RDONLY, 0o644) // read-only: flock needs no more, and another user can open it
	if err != nil {
		return nil, fmt.Errorf("timing lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		return nil, fmt.Errorf("timing lock %s: %w", f.Name(), err)
	}
	return f, nil
}
