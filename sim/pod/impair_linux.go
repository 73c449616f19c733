package pod

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/c2clab/c2clab/sim/linkemu"
	"github.com/c2clab/c2clab/sim/linkemu/emuline"
)

// Interfaces of a spliced Pod: eth0 keeps facing the cluster without an
// address; emuOuter is the emulator's other side; podIface, in the inner
// namespace the nodes run in, carries the Pod's address and eth0's MAC.
const (
	emuOuter = "emu0"
	podIface = "pod0"
)

// impairState is the splice of one Pod; the zero value: not impaired.
type impairState struct {
	inner  netns.NsHandle // the nodes' namespace once spliced; 0 before
	status string         // "" none, "splicing", "ok", or the error
}

// impair answers 202 and splices the Pod's link in the background: the
// splice takes the Pod's address off eth0, which cuts the connection the
// request came on, so the lab polls GET /impair until it reads "ok".
func (s *server) impair(w http.ResponseWriter, r *http.Request) {
	var req ImpairRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, fmt.Sprintf("machine: impair: want a JSON ImpairRequest: %v", err), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	busy := s.imp.status != "" || len(s.nodes) > 0
	if !busy {
		s.imp.status = "splicing"
	}
	s.mu.Unlock()
	if busy {
		http.Error(w, "machine: impair: the link is impaired already or nodes run: impair before any node starts", http.StatusConflict)
		return
	}
	w.WriteHeader(http.StatusAccepted)
	w.(http.Flusher).Flush()
	go func() {
		time.Sleep(100 * time.Millisecond) // let the answer leave before the address goes
		inner, err := s.splice(req)
		s.mu.Lock()
		defer s.mu.Unlock()
		s.imp.status = "ok"
		if err != nil {
			s.imp.status = err.Error()
			return
		}
		s.imp.inner = inner
	}()
}

func (s *server) impairStatus(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	st := s.imp.status
	s.mu.Unlock()
	fmt.Fprint(w, st)
}

// splice moves the Pod's address from eth0 into a new network namespace
// behind a veth pair and runs the lab's emulator (sim/linkemu) between
// eth0 and the pair's outer end, as netlab.Impair splices a device's veth
// on the netns backend; the machine API listens in the new namespace too,
// since the old one keeps no address. It needs NET_ADMIN, NET_RAW and,
// for the namespace, SYS_ADMIN.
func (s *server) splice(req ImpairRequest) (netns.NsHandle, error) {
	eth, err := netlink.LinkByName("eth0")
	if err != nil {
		return 0, fmt.Errorf("impair: %w", err)
	}
	addrs, err := netlink.AddrList(eth, netlink.FAMILY_V4)
	if err != nil || len(addrs) != 1 {
		return 0, fmt.Errorf("impair: eth0 has %d IPv4 addresses (%v), want one", len(addrs), err)
	}
	routes, err := gatewayRoutes(eth)
	if err != nil {
		return 0, err
	}
	inner, err := newNetns()
	if err != nil {
		return 0, err
	}
	if err := wireInner(eth, addrs[0], routes, inner, req.PerPacket); err != nil {
		inner.Close()
		return 0, err
	}
	if err := moveAttachments(inner); err != nil { // attach_linux.go
		inner.Close()
		return 0, err
	}
	if err := s.listenIn(inner); err != nil {
		return 0, err
	}
	return inner, s.startEmu(req)
}

// gatewayRoutes are eth0's routes through a gateway (a default route, or
// routes to other networks), to repeat on the nodes' interface; the
// connected route comes back by itself with the address. A Pod network
// without a default route (kubenode's) has none.
func gatewayRoutes(eth netlink.Link) ([]netlink.Route, error) {
	routes, err := netlink.RouteList(eth, netlink.FAMILY_V4)
	if err != nil {
		return nil, fmt.Errorf("impair: routes of %s: %w", eth.Attrs().Name, err)
	}
	var out []netlink.Route
	for _, r := range routes {
		if r.Gw != nil {
			out = append(out, netlink.Route{Dst: r.Dst, Gw: r.Gw})
		}
	}
	return out, nil
}

// newNetns makes a network namespace and returns its handle, leaving every
// thread of the process where it was.
func newNetns() (netns.NsHandle, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	outer, err := netns.Get()
	if err != nil {
		return 0, fmt.Errorf("impair: %w", err)
	}
	defer outer.Close()
	inner, err := netns.New()
	if err != nil {
		return 0, fmt.Errorf("impair: new network namespace (the Pod needs SYS_ADMIN): %w", err)
	}
	if err := netns.Set(outer); err != nil {
		// This thread is stuck in inner: never unlock it, so it ends.
		runtime.LockOSThread()
		return 0, fmt.Errorf("impair: back to the Pod's namespace: %w", err)
	}
	return inner, nil
}

// wireInner makes the veth pair, moves its inner end into inner with the
// Pod's address, eth0's MAC and gateway routes, and leaves eth0 without an
// address, promiscuous, for the emulator's raw socket.
func wireInner(eth netlink.Link, addr netlink.Addr, routes []netlink.Route, inner netns.NsHandle, perPacket bool) error {
	attrs := eth.Attrs()
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: emuOuter, MTU: attrs.MTU}, PeerName: podIface}
	if err := netlink.LinkAdd(veth); err != nil {
		return fmt.Errorf("impair: veth: %w", err)
	}
	peer, err := netlink.LinkByName(podIface)
	if err != nil {
		return fmt.Errorf("impair: %w", err)
	}
	if err := netlink.LinkSetNsFd(peer, int(inner)); err != nil {
		return fmt.Errorf("impair: move %s: %w", podIface, err)
	}
	h, err := netlink.NewHandleAt(inner)
	if err != nil {
		return fmt.Errorf("impair: %w", err)
	}
	defer h.Close()
	if peer, err = h.LinkByName(podIface); err != nil { // its index there
		return fmt.Errorf("impair: %s in the nodes' namespace: %w", podIface, err)
	}
	if err := netlink.AddrDel(eth, &addr); err != nil {
		return fmt.Errorf("impair: take %s off eth0: %w", addr.IPNet, err)
	}
	steps := []func() error{
		func() error { return netlink.SetPromiscOn(eth) },
		func() error { return netlink.LinkSetUp(veth) },
		func() error { return h.LinkSetHardwareAddr(peer, attrs.HardwareAddr) },
		func() error { return h.AddrAdd(peer, &netlink.Addr{IPNet: addr.IPNet}) },
		func() error { return h.LinkSetUp(peer) },
		func() error { lo, err := h.LinkByName("lo"); return errors.Join(err, h.LinkSetUp(lo)) },
	}
	for _, r := range routes {
		r.LinkIndex = peer.Attrs().Index
		steps = append(steps, func() error { return h.RouteAdd(&r) })
	}
	if perPacket {
		steps = append(steps, func() error {
			return errors.Join(emuline.SetOffload("eth0", false), emuline.SetOffload(emuOuter, false), inNetns(inner, func() error { return emuline.SetOffload(podIface, false) }))
		})
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return fmt.Errorf("impair: %w", err)
		}
	}
	return nil
}

// inNetns runs f on a thread in ns, and returns the thread to the Pod's
// namespace (or ends it, if it cannot).
func inNetns(ns netns.NsHandle, f func() error) error {
	runtime.LockOSThread()
	outer, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer outer.Close()
	if err := netns.Set(ns); err != nil {
		runtime.UnlockOSThread()
		return err
	}
	ferr := f()
	if err := netns.Set(outer); err != nil {
		return errors.Join(ferr, err) // the thread stays locked and ends with its goroutine
	}
	runtime.UnlockOSThread()
	return ferr
}

// listenIn serves the API in inner as well: the lab reaches the Pod's
// address there from now on.
func (s *server) listenIn(inner netns.NsHandle) error {
	var ln net.Listener
	err := inNetns(inner, func() error {
		var err error
		ln, err = net.Listen("tcp", ":"+DefaultPort)
		return err
	})
	if err != nil {
		return fmt.Errorf("impair: listen in the nodes' namespace: %w", err)
	}
	go s.srv.Serve(ln)
	return nil
}

// startEmu runs the emulator in this process until the machine ends: A
// faces the nodes (emu0), B the cluster (eth0).
func (s *server) startEmu(req ImpairRequest) error {
	cfg := linkemu.Config{IfaceA: emuOuter, IfaceB: "eth0", AtoB: req.FromPod, BtoA: req.ToPod, Seed: req.Seed,
		Netns: fmt.Sprintf("/proc/%d/ns/net", os.Getpid())}
	ready := make(chan map[string]string, 1)
	done := make(chan error, 1)
	go func() { done <- linkemu.Run(s.ctx, cfg, func(a map[string]string) { ready <- a }) }()
	select {
	case <-ready:
		return nil
	case err := <-done:
		return fmt.Errorf("impair: emulator: %w", err)
	case <-time.After(10 * time.Second):
		return errors.New("impair: the emulator did not start forwarding within 10 s")
	}
}

// startIn starts cmd in the nodes' namespace once the link is spliced,
// else where this process runs.
func startIn(imp impairState, cmd *exec.Cmd) error {
	if imp.inner == 0 {
		return cmd.Start()
	}
	return inNetns(imp.inner, cmd.Start)
}
