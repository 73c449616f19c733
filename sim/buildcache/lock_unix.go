//go:build unix

package buildcache

import (
	"fmt"
	"os"
	"syscall"
)

// lock flocks path exclusively until the returned func is called: two
// test binaries building one name wait for each other instead of writing
// one file at once. The file stays (removing it would let two processes
// lock different files of one name).
func lock(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("buildcache: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("buildcache: lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}
