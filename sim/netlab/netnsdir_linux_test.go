package netlab

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// In a mount namespace of its own (nothing reaches the machine's), a
// namespace mounted into a directory that is not yet a mount point is
// removable after shareDir only if shareDir came first: bound afterwards,
// the copy beneath keeps the file busy (the cni-* leftovers). A second
// shareDir, as `ip netns add` would do it, binds nothing again.
func TestShareDirBeforeMountsKeepsNamespacesRemovable(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: mount namespaces and nsfs mounts")
	}
	for _, first := range []bool{true, false} {
		err := inPrivateMounts(t, func() error {
			dir := t.TempDir()
			if first {
				if err := shareDir(dir); err != nil {
					return err
				}
			}
			ns := filepath.Join(dir, "cni-x")
			if err := os.WriteFile(ns, nil, 0o644); err != nil {
				return err
			}
			if err := unix.Mount("/proc/thread-self/ns/net", ns, "none", unix.MS_BIND, ""); err != nil {
				return err
			}
			if err := shareDir(dir); err != nil {
				return err
			}
			if n, err := mountsAt(dir); err != nil || n != 1 {
				t.Errorf("first=%v: %d mounts at %s after the second shareDir (%v), want 1", first, n, dir, err)
			}
			if err := unix.Unmount(ns, 0); err != nil {
				return err
			}
			return os.Remove(ns)
		})
		if first && err != nil {
			t.Errorf("shared first: the namespace's owner could not remove it: %v", err)
		}
		if !first && !errors.Is(err, unix.EBUSY) {
			t.Errorf("bound after the mount: err %v, want EBUSY (the case shareDir is there for)", err)
		}
	}
}

// inPrivateMounts runs f on an OS thread with a mount namespace of its
// own whose mounts do not propagate back; the thread is discarded after.
func inPrivateMounts(t *testing.T, f func() error) error {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the runtime ends the thread
		if err := unix.Unshare(unix.CLONE_NEWNS | unix.CLONE_FS); err != nil {
			errc <- err
			return
		}
		if err := unix.Mount("", "/", "none", unix.MS_PRIVATE|unix.MS_REC, ""); err != nil {
			errc <- err
			return
		}
		errc <- f()
	}()
	return <-errc
}

// mountsAt counts the mounts whose mount point is dir, in the calling
// thread's mount namespace.
func mountsAt(dir string) (int, error) {
	f, err := os.Open("/proc/thread-self/mountinfo")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) > 4 && fields[4] == dir {
			n++
		}
	}
	return n, sc.Err()
}
