package netlab

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// netnsDir is where `ip netns add` bind-mounts named namespaces.
const netnsDir = "/var/run/netns"

// createNetns creates the named namespace the way `ip netns add` does and
// brings its loopback up. The namespace is entered on a goroutine locked to
// its OS thread that never unlocks: the runtime then ends that thread, so no
// other goroutine ever runs in the new namespace by accident.
func createNetns(name string) (string, error) {
	if err := ShareNetnsDir(); err != nil {
		return "", err
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		h, err := netns.NewNamed(name)
		if err == nil {
			h.Close()
		}
		errc <- err
	}()
	if err := <-errc; err != nil {
		return "", fmt.Errorf("create netns %q: %w", name, err)
	}
	path := filepath.Join(netnsDir, name)
	if err := linkUpIn(path, "lo", true); err != nil {
		return path, fmt.Errorf("create netns %q: %w", name, err)
	}
	return path, nil
}

// linkUpIn sets a link inside the namespace at nsPath up or down.
func linkUpIn(nsPath, ifname string, up bool) error {
	h, err := handleAt(nsPath)
	if err != nil {
		return err
	}
	defer h.Close()
	link, err := h.LinkByName(ifname)
	if err != nil {
		return fmt.Errorf("link %q: %w", ifname, err)
	}
	if up {
		err = h.LinkSetUp(link)
	} else {
		err = h.LinkSetDown(link)
	}
	if err != nil {
		return fmt.Errorf("link %q up=%t: %w", ifname, up, err)
	}
	return nil
}

func handleAt(nsPath string) (*netlink.Handle, error) {
	ns, err := netns.GetFromPath(nsPath)
	if err != nil {
		return nil, fmt.Errorf("open netns %q: %w", nsPath, err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return nil, fmt.Errorf("netlink in %q: %w", nsPath, err)
	}
	return h, nil
}

// deleteNetns kills what still runs in the namespace (only processes in this
// very namespace, found by its inode) and removes its bind mount and its
// /etc/netns configuration.
func deleteNetns(name string) error {
	if err := removeEtcNetns(name); err != nil {
		return fmt.Errorf("delete netns %q: %w", name, err)
	}
	path := filepath.Join(netnsDir, name)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err := killNetnsProcs(path); err != nil {
		return fmt.Errorf("delete netns %q: %w", name, err)
	}
	if err := unix.Unmount(path, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("delete netns %q: unmount: %w", name, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("delete netns %q: %w", name, err)
	}
	return nil
}

// killNetnsProcs SIGKILLs every process whose network namespace is the one
// bind-mounted at path and waits up to 2 s for them to go, so the namespace
// and its veths disappear with the mount.
func killNetnsProcs(path string) error {
	var want unix.Stat_t
	if err := unix.Stat(path, &want); err != nil {
		return fmt.Errorf("stat: %w", err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		pids := netnsPIDs(want.Dev, want.Ino)
		if len(pids) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("processes %v still running", pids)
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL) // may have exited already
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func netnsPIDs(dev, ino uint64) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		var st unix.Stat_t
		if unix.Stat("/proc/"+e.Name()+"/ns/net", &st) != nil {
			continue
		}
		if st.Dev == dev && st.Ino == ino && !zombie(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// zombie reports whether pid has exited but is not yet reaped; such a
// process holds no namespace and cannot be killed again.
func zombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	for i := len(b) - 1; i > 0; i-- {
		if b[i] == ')' && i+2 < len(b) {
			return b[i+2] == 'Z'
		}
	}
	return false
}

// retryDump retries fn while its netlink dump was interrupted: other labs
// add and remove links at the same time, and the kernel then flags the
// dump, whose results may be incomplete.
func retryDump[T any](fn func() (T, error)) (T, error) {
	var v T
	var err error
	for range 5 {
		if v, err = fn(); !errors.Is(err, netlink.ErrDumpInterrupted) {
			return v, err
		}
	}
	return v, err
}

// linkList lists root-namespace links.
func linkList() ([]netlink.Link, error) { return retryDump(netlink.LinkList) }

// linkByName finds a root-namespace link.
func linkByName(name string) (netlink.Link, error) {
	return retryDump(func() (netlink.Link, error) { return netlink.LinkByName(name) })
}

// routeList lists the root namespace's IPv4 routes.
func routeList() ([]netlink.Route, error) {
	return retryDump(func() ([]netlink.Route, error) {
		return netlink.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Table: unix.RT_TABLE_UNSPEC}, netlink.RT_FILTER_TABLE)
	})
}
