package agent

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"

	"golang.org/x/sys/unix"
)

func interceptSupported() error { return nil }

// originalDst returns where c was addressed before a netfilter REDIRECT or
// DNAT rule sent it to the agent: getsockopt SO_ORIGINAL_DST, which fills
// a struct sockaddr_in (IPv4 only, as the synthetic range is). The
// IPv6Mreq getter is the usual way to read those 16 bytes from Go.
func originalDst(c *net.TCPConn) (netip.AddrPort, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("original destination: %w", err)
	}
	var m *unix.IPv6Mreq
	var gerr error
	if err := rc.Control(func(fd uintptr) {
		m, gerr = unix.GetsockoptIPv6Mreq(int(fd), unix.SOL_IP, unix.SO_ORIGINAL_DST)
	}); err != nil {
		return netip.AddrPort{}, fmt.Errorf("original destination: %w", err)
	}
	if gerr != nil {
		return netip.AddrPort{}, fmt.Errorf("original destination: getsockopt SO_ORIGINAL_DST: %w", gerr)
	}
	return sockaddrIn(m.Multiaddr), nil
}

// sockaddrIn decodes a struct sockaddr_in: family (host order), port and
// address (network order).
func sockaddrIn(b [16]byte) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[4:8])), binary.BigEndian.Uint16(b[2:4]))
}
