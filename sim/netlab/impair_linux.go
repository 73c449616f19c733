package netlab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/c2clab/c2clab/sim/linkemu/emuline"
	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// Impair splices a user-space link emulator into host's attachment to
// network. The host's interface keeps its address and MAC; its veth peer is
// taken off the bridge and moved into a new namespace RUNID-HOST-NETWORK-emu
// as a0, and a new veth pair connects b0 there to a new port of the bridge.
// start then runs the emulator between a0 and b0 with imp (ToHost on frames
// towards the host, FromHost on frames from it); netlab leaves the process
// management to start. Close stops the emulator, puts the veth back on the
// bridge and removes the namespace and port; Sweep removes them after a
// crash. On error Impair restores the attachment as it was (offload
// settings aside).
func (l *Lab) Impair(ctx context.Context, host, network string, imp Impairment, start EmuStarter) (*Emu, error) {
	h, n, e, err := l.reserveEmu(host, network)
	if err != nil {
		return nil, fmt.Errorf("impair %q on %q: %w", host, network, err)
	}
	var undo undoStack
	if err := l.splice(ctx, h, n, e, imp, start, &undo); err != nil {
		err = errors.Join(fmt.Errorf("impair %q on %q: %w", host, network, err), undo.run())
		l.mu.Lock()
		delete(l.emus, emuKey(host, network))
		l.mu.Unlock()
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed { // Close ran meanwhile and could not see this emulator
		return nil, errors.Join(fmt.Errorf("impair %q on %q: %w", host, network, ErrClosed), undo.run())
	}
	undo.moveTo(&l.undo)
	l.emus[emuKey(host, network)] = e
	out := *e
	return &out, nil
}

func emuKey(host, network string) string { return host + "/" + network }

// reserveEmu checks the attachment, claims it and names the emulator.
func (l *Lab) reserveEmu(host, network string) (*Host, *network, *Emu, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, nil, nil, ErrClosed
	}
	h := l.hosts[host]
	if h == nil {
		return nil, nil, nil, ErrUnknownHost
	}
	n := l.networks[network]
	if _, ok := h.IfNames[network]; !ok || n == nil {
		return nil, nil, nil, fmt.Errorf("host not attached: %w", ErrUnknownNetwork)
	}
	if n.Bridge == "" {
		return nil, nil, nil, ErrNoBridge
	}
	if _, ok := l.emus[emuKey(host, network)]; ok {
		return nil, nil, nil, ErrImpaired
	}
	l.emus[emuKey(host, network)] = nil
	nsn := emuNSName(l.runID, host, network)
	e := &Emu{
		Host: host, Network: network, NS: nsn, Path: filepath.Join(netnsDir, nsn),
		IfaceA: EmuIfaceA, IfaceB: EmuIfaceB, Port: emuPortName(l.runID, l.nextEmu),
	}
	l.nextEmu++
	return h, n, e, nil
}

// splice builds the emulator's namespace and links, registering each undo
// before the step it undoes, and starts the emulator.
func (l *Lab) splice(ctx context.Context, h *Host, n *network, e *Emu, imp Impairment, start EmuStarter, undo *undoStack) error {
	ifname := h.IfNames[e.Network]
	alias := h.NS + "/" + ifname // set by tagHostVeths
	port, err := netlink.LinkByAlias(alias)
	if err != nil {
		return fmt.Errorf("bridge port %q: %w", alias, err)
	}
	undo.push(func() error { return deleteNetns(e.NS) })
	if _, err := createNetns(e.NS); err != nil {
		return err
	}
	if err := addEmuPort(e, n.Bridge, port.Attrs().MTU, undo); err != nil {
		return err
	}
	name := port.Attrs().Name
	undo.push(func() error { return restorePort(e, name, alias, n.Bridge) })
	if err := moveToEmu(e, port); err != nil {
		return err
	}
	if imp.PerPacket {
		if err := perPacket(h, ifname, e); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	stop, err := start(ctx, *e, imp.config(*e))
	if stop != nil {
		undo.push(stop)
	}
	if err != nil {
		return fmt.Errorf("start emulator: %w", err)
	}
	return nil
}

// addEmuPort creates the veth pair b0 (in the emulator namespace) and
// e.Port (on the bridge), both up, with the MTU of the host's link.
func addEmuPort(e *Emu, bridge string, mtu int, undo *undoStack) error {
	target, err := netns.GetFromPath(e.Path)
	if err != nil {
		return fmt.Errorf("open netns %q: %w", e.NS, err)
	}
	defer target.Close()
	attrs := netlink.NewLinkAttrs()
	attrs.Name, attrs.MTU = e.Port, mtu
	veth := &netlink.Veth{LinkAttrs: attrs, PeerName: e.IfaceB, PeerTxQLen: -1, PeerNamespace: netlink.NsFd(target)}
	undo.push(func() error { return deleteLink(e.Port) })
	if err := netlink.LinkAdd(veth); err != nil {
		return fmt.Errorf("veth %q: %w", e.Port, err)
	}
	if err := bridgePort(e.Port, e.NS+"/"+e.IfaceB, bridge); err != nil {
		return err
	}
	return linkUpIn(e.Path, e.IfaceB, true)
}

// bridgePort tags a root-namespace link with alias, makes it a port of
// bridge and sets it up.
func bridgePort(name, alias, bridge string) error {
	link, err := linkByName(name)
	if err != nil {
		return fmt.Errorf("link %q: %w", name, err)
	}
	br, err := linkByName(bridge)
	if err != nil {
		return fmt.Errorf("bridge %q: %w", bridge, err)
	}
	if err := netlink.LinkSetAlias(link, alias); err != nil {
		return fmt.Errorf("link %q: alias: %w", name, err)
	}
	if err := netlink.LinkSetMaster(link, br); err != nil {
		return fmt.Errorf("link %q: master %q: %w", name, bridge, err)
	}
	if err := netlink.LinkSetUp(link); err != nil {
		return fmt.Errorf("link %q: up: %w", name, err)
	}
	return nil
}

// moveToEmu takes the host's bridge port off the bridge, moves it into the
// emulator namespace (which sets it down), renames it a0 and sets it up.
func moveToEmu(e *Emu, port netlink.Link) error {
	name := port.Attrs().Name
	if err := netlink.LinkSetNoMaster(port); err != nil {
		return fmt.Errorf("link %q: nomaster: %w", name, err)
	}
	target, err := netns.GetFromPath(e.Path)
	if err != nil {
		return fmt.Errorf("open netns %q: %w", e.NS, err)
	}
	defer target.Close()
	if err := netlink.LinkSetNsFd(port, int(target)); err != nil {
		return fmt.Errorf("link %q: to netns %q: %w", name, e.NS, err)
	}
	h, err := handleAt(e.Path)
	if err != nil {
		return err
	}
	defer h.Close()
	link, err := h.LinkByName(name)
	if err != nil {
		return fmt.Errorf("link %q in %q: %w", name, e.NS, err)
	}
	if err := h.LinkSetName(link, e.IfaceA); err != nil {
		return fmt.Errorf("link %q in %q: rename %q: %w", name, e.NS, e.IfaceA, err)
	}
	if err := h.LinkSetUp(link); err != nil {
		return fmt.Errorf("link %q in %q: up: %w", e.IfaceA, e.NS, err)
	}
	return nil
}

// restorePort undoes moveToEmu: a0 goes back to the root namespace under its
// old name and onto the bridge. What is already gone (the namespace, or the
// veth with its host) needs no restoring.
func restorePort(e *Emu, name, alias, bridge string) error {
	if err := portToRoot(e, name); err != nil {
		return fmt.Errorf("restore port %q: %w", name, err)
	}
	if _, err := netlink.LinkByName(name); errors.As(err, new(netlink.LinkNotFoundError)) {
		return nil
	}
	if err := bridgePort(name, alias, bridge); err != nil {
		return fmt.Errorf("restore port %q: %w", name, err)
	}
	return nil
}

// portToRoot moves a0, if it is in the emulator namespace, back to the
// namespace of this process as name.
func portToRoot(e *Emu, name string) error {
	if _, err := os.Stat(e.Path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	h, err := handleAt(e.Path)
	if err != nil {
		return err
	}
	defer h.Close()
	link, err := h.LinkByName(e.IfaceA)
	if errors.As(err, new(netlink.LinkNotFoundError)) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("link %q in %q: %w", e.IfaceA, e.NS, err)
	}
	if err := h.LinkSetDown(link); err != nil { // a link is renamed only when down
		return fmt.Errorf("link %q in %q: down: %w", e.IfaceA, e.NS, err)
	}
	if err := h.LinkSetName(link, name); err != nil {
		return fmt.Errorf("link %q in %q: rename %q: %w", e.IfaceA, e.NS, name, err)
	}
	root, err := ownNetns()
	if err != nil {
		return fmt.Errorf("own netns: %w", err)
	}
	defer root.Close()
	if err := h.LinkSetNsFd(link, int(root)); err != nil {
		return fmt.Errorf("link %q: to own netns: %w", name, err)
	}
	return nil
}

// perPacket turns segmentation and receive offload off along the emulated
// path: on the host's interface so it sends MTU-sized frames, on a0 and b0
// so nothing merges them again, and on the bridge port so super-frames from
// other ports of the bridge are segmented before they reach b0.
func perPacket(h *Host, ifname string, e *Emu) error {
	if err := h.Do(func() error { return emuline.SetOffload(ifname, false) }); err != nil {
		return fmt.Errorf("offload off: %w", err)
	}
	target, err := ns.GetNS(e.Path)
	if err != nil {
		return fmt.Errorf("offload off: netns %q: %w", e.NS, err)
	}
	defer target.Close()
	err = target.Do(func(ns.NetNS) error {
		return errors.Join(emuline.SetOffload(e.IfaceA, false), emuline.SetOffload(e.IfaceB, false))
	})
	if err != nil {
		return fmt.Errorf("offload off: netns %q: %w", e.NS, err)
	}
	if err := emuline.SetOffload(e.Port, false); err != nil {
		return fmt.Errorf("offload off: %w", err)
	}
	return nil
}

// Emus returns the lab's emulators.
func (l *Lab) Emus() []Emu {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Emu
	for _, e := range l.emus {
		if e != nil {
			out = append(out, *e)
		}
	}
	return out
}

// ownNetns opens the namespace of this process's ordinary threads. Not
// /proc/self: the main thread may be parked for good in a namespace that a
// locked goroutine entered and never left (the runtime cannot end it).
func ownNetns() (netns.NsHandle, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return netns.Get()
}
