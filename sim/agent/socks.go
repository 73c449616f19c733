package agent

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"time"
)

// socksNegotiationTimeout bounds the SOCKS5 greeting and request.
const socksNegotiationTimeout = 10 * time.Second

var errSOCKS = errors.New("socks5")

// handleSOCKS serves one SOCKS5 client (RFC 1928): no authentication,
// CONNECT to a domain name only, since the agent intercepts by name.
func (a *agent) handleSOCKS(c *net.TCPConn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(socksNegotiationTimeout))
	fqdn, port, err := socksRequest(c)
	if err != nil {
		a.log.Info("socks5 request refused", "remote", c.RemoteAddr().String(), "reason", err)
		return
	}
	c.SetDeadline(time.Time{})
	t, rec, fc := a.open(a.ctx, fqdn, port)
	if fc != "" {
		writeReply(c, socksReply(fc))
		return
	}
	if err := writeReply(c, socksOK); err != nil {
		t.Close()
		a.finish(rec, "", false, 0, 0)
		return
	}
	up, down := a.client.Pipe(t, c)
	a.finish(rec, "", false, up, down)
}

// socksRequest negotiates "no authentication" and reads a CONNECT request;
// it answers what it refuses itself (other commands, IP addresses).
func socksRequest(c net.Conn) (string, uint16, error) {
	var h [2]byte
	if _, err := io.ReadFull(c, h[:]); err != nil {
		return "", 0, fmt.Errorf("%w: greeting: %w", errSOCKS, err)
	}
	if h[0] != 5 {
		return "", 0, fmt.Errorf("%w: greeting: version %d, want 5", errSOCKS, h[0])
	}
	methods := make([]byte, h[1])
	if _, err := io.ReadFull(c, methods); err != nil {
		return "", 0, fmt.Errorf("%w: greeting methods: %w", errSOCKS, err)
	}
	if !slices.Contains(methods, 0) {
		c.Write([]byte{5, 0xff})
		return "", 0, fmt.Errorf("%w: client offers no method without authentication", errSOCKS)
	}
	if _, err := c.Write([]byte{5, 0}); err != nil {
		return "", 0, fmt.Errorf("%w: %w", errSOCKS, err)
	}
	var r [4]byte // VER CMD RSV ATYP
	if _, err := io.ReadFull(c, r[:]); err != nil {
		return "", 0, fmt.Errorf("%w: request: %w", errSOCKS, err)
	}
	if r[0] != 5 {
		return "", 0, fmt.Errorf("%w: request: version %d, want 5", errSOCKS, r[0])
	}
	host, err := readAddr(c, r[3])
	if err != nil {
		return "", 0, err
	}
	var p [2]byte
	if _, err := io.ReadFull(c, p[:]); err != nil {
		return "", 0, fmt.Errorf("%w: request port: %w", errSOCKS, err)
	}
	switch {
	case r[1] != 1:
		writeReply(c, socksBadCommand)
		return "", 0, fmt.Errorf("%w: command %d, only CONNECT (1) is supported", errSOCKS, r[1])
	case r[3] != 3:
		writeReply(c, socksBadAddrType)
		return "", 0, fmt.Errorf("%w: address %s: the agent intercepts names only, not IP addresses", errSOCKS, host)
	case host == "" || binary.BigEndian.Uint16(p[:]) == 0:
		writeReply(c, socksFailure)
		return "", 0, fmt.Errorf("%w: empty name or port 0", errSOCKS)
	}
	return host, binary.BigEndian.Uint16(p[:]), nil
}

func readAddr(c net.Conn, atyp byte) (string, error) {
	var n int
	switch atyp {
	case 1:
		n = 4
	case 4:
		n = 16
	case 3:
		var l [1]byte
		if _, err := io.ReadFull(c, l[:]); err != nil {
			return "", fmt.Errorf("%w: request name: %w", errSOCKS, err)
		}
		n = int(l[0])
	default:
		writeReply(c, socksBadAddrType)
		return "", fmt.Errorf("%w: address type %d", errSOCKS, atyp)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(c, b); err != nil {
		return "", fmt.Errorf("%w: request address: %w", errSOCKS, err)
	}
	if atyp == 3 {
		return string(b), nil
	}
	return net.IP(b).String(), nil
}

// writeReply sends a reply with BND.ADDR 0.0.0.0:0.
func writeReply(c net.Conn, rep byte) error {
	_, err := c.Write([]byte{5, rep, 0, 1, 0, 0, 0, 0, 0, 0})
	return err
}
