package netlab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// createBridge creates a bridge in the root namespace, up, with gw as its
// address when valid. It refuses to reuse an existing device.
func createBridge(name string, gw netip.Prefix) error {
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name}}
	if err := netlink.LinkAdd(br); err != nil {
		return fmt.Errorf("bridge %q: %w", name, err)
	}
	if gw.IsValid() {
		addr := &netlink.Addr{IPNet: &net.IPNet{
			IP:   gw.Addr().AsSlice(),
			Mask: net.CIDRMask(gw.Bits(), 32),
		}}
		if err := netlink.AddrAdd(br, addr); err != nil {
			return fmt.Errorf("bridge %q: address %s: %w", name, gw, err)
		}
	}
	if err := netlink.LinkSetUp(br); err != nil {
		return fmt.Errorf("bridge %q: up: %w", name, err)
	}
	return nil
}

// deleteLink deletes a root-namespace link; one already gone is fine.
func deleteLink(name string) error {
	link, err := linkByName(name)
	if errors.As(err, new(netlink.LinkNotFoundError)) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete link %q: %w", name, err)
	}
	if err := netlink.LinkDel(link); err != nil && !errors.Is(err, unix.ENODEV) {
		return fmt.Errorf("delete link %q: %w", name, err)
	}
	return nil
}

// subnetInUse reports whether any root-namespace route overlaps p (the
// default route aside), which covers addresses on other bridges and
// interfaces.
func subnetInUse(p netip.Prefix) (bool, error) {
	routes, err := routeList()
	if err != nil {
		return false, fmt.Errorf("routes: %w", err)
	}
	for _, r := range routes {
		if r.Dst == nil {
			continue
		}
		ones, _ := r.Dst.Mask.Size()
		a, ok := netip.AddrFromSlice(r.Dst.IP.To4())
		if !ok || ones == 0 {
			continue
		}
		if netip.PrefixFrom(a, ones).Masked().Overlaps(p) {
			return true, nil
		}
	}
	return false, nil
}

// lockAlloc takes the cross-process lock that makes "find a free subnet,
// create its bridge" atomic between concurrent runs.
func lockAlloc(ctx context.Context) (unlock func(), err error) {
	if err := os.MkdirAll(StateRoot, 0o700); err != nil {
		return nil, fmt.Errorf("alloc lock: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(StateRoot, "alloc.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("alloc lock: %w", err)
	}
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil // closing releases the lock
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("alloc lock: %w", err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("alloc lock: %w", ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// sweepLinks deletes root-namespace links carrying a matching run ID
// (bridges by name, host-side veths by alias) and returns their names.
// Namespace teardown is asynchronous in the kernel, so veths whose peer
// namespace just went may still vanish on their own; that is not an error.
func sweepLinks(match func(runID string) bool) ([]string, error) {
	links, err := linkList()
	if err != nil {
		return nil, fmt.Errorf("sweep links: %w", err)
	}
	var removed []string
	var errs []error
	for _, link := range links {
		a := link.Attrs()
		id := runIDOfLink(a.Name, a.Alias)
		if id == "" || !match(id) {
			continue
		}
		if err := deleteLink(a.Name); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, "link "+a.Name)
	}
	return removed, errors.Join(errs...)
}
