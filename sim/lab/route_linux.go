package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"runtime"

	"github.com/vishvananda/netns"
)

// This file gives c2clab bench the "routed direct" reference of DESIGN.md:
// the same machines and hops as the relay (admin, broker, device), with
// the broker's kernel forwarding instead of the relay, and sockets made in
// the admin's own network namespace.

// RouteThroughBroker makes traffic between devices a and b take the
// broker's machine as a router: a host route each way via the broker and
// forwarding on in the broker's namespace, with ICMP redirects off so the
// hosts keep using it although all three share one network. Network
// namespaces only; the routes go away with them.
func (l *Lab) RouteThroughBroker(ctx context.Context, a, b *Device) error {
	if _, ok := l.placer.(*netnsPlacer); !ok {
		return fmt.Errorf("lab: route through the broker: %w", ErrNeedsNetns)
	}
	broker := l.brokerHost.addr.String()
	steps := []struct {
		h    host
		args []string
	}{
		// Redirects off on every interface: "all" alone does not reach an
		// interface made before it changed.
		{l.brokerHost, []string{"sh", "-c", "sysctl -qw net.ipv4.ip_forward=1 && for f in /proc/sys/net/ipv4/conf/*/send_redirects; do echo 0 > $f; done"}},
		{a.host, []string{"ip", "route", "replace", b.InterfaceIP.String() + "/32", "via", broker}},
		{b.host, []string{"ip", "route", "replace", a.InterfaceIP.String() + "/32", "via", broker}},
	}
	for _, s := range steps {
		full := s.h.command(s.args)
		if out, err := exec.CommandContext(ctx, full[0], full[1:]...).CombinedOutput(); err != nil {
			return fmt.Errorf("lab: route through the broker: %q: %w: %s", full, err, out)
		}
	}
	return nil
}

// DialFrom dials addr with a socket made in the device's own network
// namespace, as a program on the device would (netns backend); elsewhere
// as the runner.
func (d *Device) DialFrom(ctx context.Context, addr netip.AddrPort) (net.Conn, error) {
	full := d.host.command(nil) // "ip netns exec NAME" on the netns backend
	if _, ok := d.lab.placer.(*netnsPlacer); !ok || len(full) != 4 {
		var nd net.Dialer
		return nd.DialContext(ctx, "tcp", addr.String())
	}
	type result struct {
		c   net.Conn
		err error
	}
	done := make(chan result, 1)
	// A socket keeps the namespace it was made in, so only its creation
	// (inside DialContext) happens in the device's, on a thread of its own
	// that is never unlocked if it cannot return: the runtime then ends it.
	go func() {
		runtime.LockOSThread()
		c, err := dialIn(ctx, full[3], addr)
		if err == nil || !errors.Is(err, errStuck) {
			runtime.UnlockOSThread()
		}
		done <- result{c, err}
	}()
	r := <-done
	if r.err != nil {
		return nil, fmt.Errorf("lab: dial %s from %q: %w", addr, d.Name, r.err)
	}
	return r.c, nil
}

var errStuck = errors.New("cannot return to the runner's network namespace")

// dialIn dials from the named namespace on the locked calling thread and
// returns the thread to its namespace.
func dialIn(ctx context.Context, ns string, addr netip.AddrPort) (net.Conn, error) {
	target, err := netns.GetFromName(ns)
	if err != nil {
		return nil, err
	}
	defer target.Close()
	orig, err := netns.Get()
	if err != nil {
		return nil, err
	}
	defer orig.Close()
	if err := netns.Set(target); err != nil {
		return nil, err
	}
	var nd net.Dialer
	c, err := nd.DialContext(ctx, "tcp", addr.String())
	if serr := netns.Set(orig); serr != nil {
		if c != nil {
			c.Close()
		}
		return nil, fmt.Errorf("%w: %w", errStuck, serr)
	}
	return c, err
}
