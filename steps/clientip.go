package steps

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
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
