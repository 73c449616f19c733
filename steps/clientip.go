package steps

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"
)

// userStatusClientIP is SEG-9: the device's User Status shows a client IP
// from the tenant's client-to-client IP range.
func userStatusClientIP(ctx context.Context, name, cidr string) error {
	want, err := netip.ParsePrefix(cidr)
	if err != nil {
		return fmt.Errorf("range %q: %w", cidr, err)
	}
	s, err := getWorld(ctx).userStatus(ctx, name)
	if err != nil {
		return err
	}
	note(ctx, "user status of %s: clientIP %q", name, s.ClientIP)
	a, err := netip.ParseAddr(s.ClientIP)
	if err != nil || !want.Contains(a) {
		return fmt.Errorf("User Status of %q shows client IP %q, want an address in %s", name, s.ClientIP, want)
	}
	return nil
}

// connectsToClientIP connects from the admin's device to the client IP the
// broker's User Status shows for the device, as an admin reads it there.
func connectsToClientIP(ctx context.Context, from, name string, port int) error {
	s, err := getWorld(ctx).userStatus(ctx, name)
	if err != nil {
		return err
	}
	if s.ClientIP == "" {
		return fmt.Errorf("User Status of %q shows no client IP", name)
	}
	return connectsTo(ctx, from, net.JoinHostPort(s.ClientIP, strconv.Itoa(port)))
}

// ncSendsToClientIP is SEG-9 for an unmodified client: plain `nc -N IP
// PORT` on the admin's machine, no SOCKS, no forward, to the client IP the
// User Status shows for the device; only the machine's interception
// (resolvesThroughAgent) takes it to the agent. The attempt is judged as
// a SOCKS one is, from the source agent's record and the broker's log;
// what the client itself saw is the echo: a connection that brings back
// other than what was sent did not carry it.
func ncSendsToClientIP(ctx context.Context, from, text, name string, port int) (context.Context, error) {
	w := getWorld(ctx)
	s, err := w.userStatus(ctx, name)
	if err != nil {
		return ctx, err
	}
	if s.ClientIP == "" {
		return ctx, fmt.Errorf("User Status of %q shows no client IP", name)
	}
	d, err := w.device(from)
	if err != nil {
		return ctx, err
	}
	acts, err := w.lab.Activity(ctx)
	if err != nil {
		return ctx, err
	}
	a := &attempt{from: d, fqdn: s.ClientIP, port: uint16(port), started: time.Now(), activityN: len(acts)}
	ctx, err = runNC(ctx, from, text, net.JoinHostPort(s.ClientIP, strconv.Itoa(port)), false)
	if err != nil {
		return ctx, err
	}
	note(ctx, "nc to %s:%d (client IP of %s) on %s printed %q", s.ClientIP, port, name, from, w.client.out)
	a.err = w.client.err
	if a.err == nil && w.client.out != text {
		a.err = fmt.Errorf("nc printed %q, not the %q it sent: nothing was carried back", w.client.out, text)
	}
	rec, err := sourceRecord(ctx, d, a)
	if err != nil {
		return ctx, err
	}
	a.code, a.local = rec.Code, rec.Local
	w.connect.last = a
	return ctx, nil
}
