package lab

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// SOCKSError is a SOCKS5 CONNECT refusal: the reply code the admin's client
// sees (RFC 1928 section 6). The agent's status API holds the ZPA code.
type SOCKSError struct{ Reply byte }

func (e *SOCKSError) Error() string {
	return fmt.Sprintf("socks5 connect refused: reply %#02x (%s)", e.Reply, socksReplyText(e.Reply))
}

func socksReplyText(r byte) string {
	switch r {
	case 1:
		return "general failure"
	case 2:
		return "not allowed by ruleset"
	case 3:
		return "network unreachable"
	case 4:
		return "host unreachable"
	case 5:
		return "connection refused"
	case 6:
		return "TTL expired"
	case 7:
		return "command not supported"
	case 8:
		return "address type not supported"
	}
	return "unknown"
}

// DialSOCKS connects through the SOCKS5 proxy at proxy to host:port, with the
// name sent as a domain (ATYP 3) so the agent sees the FQDN, as nc -X 5 and
// curl --socks5-hostname do. Written here rather than taken from
// golang.org/x/net/proxy because that package folds the reply code into an
// error string, and the scenarios assert the code.
func DialSOCKS(ctx context.Context, proxy, host string, port uint16) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", proxy)
	if err != nil {
		return nil, fmt.Errorf("dial socks5 proxy %q: %w", proxy, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	} else {
		c.SetDeadline(time.Now().Add(30 * time.Second))
	}
	if err := socksHandshake(c, host, port); err != nil {
		c.Close()
		return nil, err
	}
	c.SetDeadline(time.Time{})
	return c, nil
}

func socksHandshake(c net.Conn, host string, port uint16) error {
	if len(host) > 255 {
		return fmt.Errorf("socks5 connect %q: name longer than 255 bytes", host)
	}
	if _, err := c.Write([]byte{5, 1, 0}); err != nil {
		return fmt.Errorf("socks5 greeting: %w", err)
	}
	var m [2]byte
	if _, err := io.ReadFull(c, m[:]); err != nil {
		return fmt.Errorf("socks5 greeting reply: %w", err)
	}
	if m[0] != 5 || m[1] != 0 {
		return fmt.Errorf("socks5 greeting reply %x: want version 5, method 0", m)
	}
	req := append([]byte{5, 1, 0, 3, byte(len(host))}, host...)
	req = binary.BigEndian.AppendUint16(req, port)
	if _, err := c.Write(req); err != nil {
		return fmt.Errorf("socks5 connect: %w", err)
	}
	return readSOCKSReply(c)
}

func readSOCKSReply(c net.Conn) error {
	var h [4]byte
	if _, err := io.ReadFull(c, h[:]); err != nil {
		return fmt.Errorf("socks5 connect reply: %w", err)
	}
	if h[0] != 5 {
		return fmt.Errorf("socks5 connect reply: version %d, want 5", h[0])
	}
	if h[1] != 0 {
		return &SOCKSError{Reply: h[1]}
	}
	var skip int
	switch h[3] {
	case 1:
		skip = 4 + 2
	case 4:
		skip = 16 + 2
	case 3:
		var l [1]byte
		if _, err := io.ReadFull(c, l[:]); err != nil {
			return fmt.Errorf("socks5 connect reply: %w", err)
		}
		skip = int(l[0]) + 2
	default:
		return fmt.Errorf("socks5 connect reply: address type %d", h[3])
	}
	if _, err := io.CopyN(io.Discard, c, int64(skip)); err != nil {
		return fmt.Errorf("socks5 connect reply: %w", err)
	}
	return nil
}

// IsSOCKSReply reports whether err is a SOCKS refusal with the given reply.
func IsSOCKSReply(err error, reply byte) bool {
	var se *SOCKSError
	return errors.As(err, &se) && se.Reply == reply
}
