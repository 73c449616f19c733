package netlab

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// ShareNetnsDir makes /var/run/netns a shared mount point of its own, as
// `ip netns add` does the first time it runs after boot (iproute2's
// netns_add: bind the directory onto itself, recursively, then mark it
// MS_SHARED), unless it is one already. Call it before anything mounts a
// namespace in the directory.
//
// Why: iproute2's recursive self-bind copies every namespace mounted in
// the directory at that moment. The owner of such a namespace (this lab,
// or containerd's Pod sandboxes, cni-*) later unmounts the top copy only,
// and its unlink fails with EBUSY on the copy beneath: the namespace
// stays, unremovable until the bind is undone, and a kubelet's sandbox
// teardown times out. On a fresh machine the first `ip netns add` (the
// link emulator's lines, a test) can come while another test's labs or
// Pods run; made a mount point first, the directory is never bound again.
func ShareNetnsDir() error {
	shareOnce.Do(func() { shareErr = shareDir(netnsDir) })
	return shareErr
}

var (
	shareOnce sync.Once
	shareErr  error
)

// shareDir makes dir a shared mount point, binding it onto itself first
// when it is not a mount point (mount(2) then answers EINVAL).
func shareDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("netlab: %w", err)
	}
	err := unix.Mount("", dir, "none", unix.MS_SHARED|unix.MS_REC, "")
	if !errors.Is(err, unix.EINVAL) {
		return wrapMount(dir, err)
	}
	if err := unix.Mount(dir, dir, "none", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return wrapMount(dir, err)
	}
	return wrapMount(dir, unix.Mount("", dir, "none", unix.MS_SHARED|unix.MS_REC, ""))
}

func wrapMount(dir string, err error) error {
	if err != nil {
		return fmt.Errorf("netlab: make %s a shared mount point: %w", dir, err)
	}
	return nil
}
