package agent

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

// scriptConn is a client that sends a fixed byte string and records what
// it is sent: enough for socksRequest, which only reads and writes.
type scriptConn struct {
	in  *bytes.Reader
	out bytes.Buffer
}

func (c *scriptConn) Read(b []byte) (int, error)       { return c.in.Read(b) }
func (c *scriptConn) Write(b []byte) (int, error)      { return c.out.Write(b) }
func (c *scriptConn) Close() error                     { return nil }
func (c *scriptConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *scriptConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *scriptConn) SetDeadline(time.Time) error      { return nil }
func (c *scriptConn) SetReadDeadline(time.Time) error  { return nil }
func (c *scriptConn) SetWriteDeadline(time.Time) error { return nil }

// socksHello is a greeting offering "no authentication" and a CONNECT
// request for name:port.
func socksHello(name string, port uint16) []byte {
	b := []byte{5, 1, 0, 5, 1, 0, 3, byte(len(name))}
	b = append(b, name...)
	return binary.BigEndian.AppendUint16(b, port)
}

// FuzzSOCKSRequest feeds the agent's SOCKS5 parser (RFC 1928) any bytes a
// local client may send. It must never panic; every refusal wraps errSOCKS;
// what it writes back is a method selection followed by at most one
// well-formed reply; and it accepts exactly the requests an independent
// reading of RFC 1928 accepts (no authentication offered, CONNECT, a
// non-empty domain name, a non-zero port), returning that name and port.
//
//	go test -run '^$' -fuzz '^FuzzSOCKSRequest$' -fuzztime 30s ./sim/agent
func FuzzSOCKSRequest(f *testing.F) {
	f.Add(socksHello("desktop-10B38-AC.example.com", 3389))
	f.Add([]byte{5, 2, 2, 0, 5, 1, 0, 1, 10, 0, 0, 1, 0, 80}) // IPv4 address
	f.Add([]byte{5, 1, 0, 5, 2, 0, 3, 1, 'a', 0, 80})         // BIND
	f.Add([]byte{5, 1, 2})                                    // username/password only
	f.Add([]byte{4, 1, 0, 80, 10, 0, 0, 1, 0})                // SOCKS4
	f.Add([]byte{5, 1, 0, 4, 1, 0, 3, 1, 'a', 0, 80})         // request version 4
	f.Add(socksHello("", 3389))                               // empty name
	f.Add(socksHello("a.example.com", 0))                     // port 0
	f.Add([]byte{5, 1, 0, 5, 1, 0, 9})                        // unknown address type
	f.Add(append([]byte{5, 0xff}, make([]byte, 255)...))      // many methods, none acceptable
	f.Fuzz(func(t *testing.T, in []byte) {
		c := &scriptConn{in: bytes.NewReader(in)}
		host, port, err := socksRequest(c)
		checkSOCKSReplies(t, in, c.out.Bytes(), err == nil)
		wantHost, wantPort, ok := referenceSOCKS(in)
		if err != nil {
			if !errors.Is(err, errSOCKS) {
				t.Fatalf("error %v does not wrap errSOCKS", err)
			}
			if strings.Contains(err.Error(), "%!") {
				t.Fatalf("error text is a broken format: %q", err)
			}
			if ok {
				t.Fatalf("refused %x (%v), a valid request for %q:%d", in, err, wantHost, wantPort)
			}
			return
		}
		if !ok || host != wantHost || port != wantPort {
			t.Fatalf("accepted %x as %q:%d; RFC 1928 says %q:%d, valid %v", in, host, port, wantHost, wantPort, ok)
		}
	})
}

// checkSOCKSReplies checks what the parser wrote: nothing (the greeting
// was cut or bad), a method selection, and after "no authentication" at
// most one reply; a reply only when the request was refused.
func checkSOCKSReplies(t *testing.T, in, out []byte, accepted bool) {
	t.Helper()
	if len(out) == 0 {
		if accepted {
			t.Fatal("accepted a request without answering the greeting")
		}
		return
	}
	if len(out) < 2 || out[0] != 5 || (out[1] != 0 && out[1] != 0xff) {
		t.Fatalf("input %x: method selection %x", in, out)
	}
	rest := out[2:]
	switch {
	case out[1] == 0xff && len(rest) > 0:
		t.Fatalf("input %x: wrote %x after refusing every method", in, rest)
	case len(rest) == 0:
	case accepted:
		t.Fatalf("input %x: accepted, yet replied %x", in, rest)
	case len(rest) != 10 || !bytes.Equal(rest[2:], []byte{0, 1, 0, 0, 0, 0, 0, 0}) || rest[0] != 5 || !slices.Contains([]byte{socksFailure, socksBadCommand, socksBadAddrType}, rest[1]):
		t.Fatalf("input %x: reply %x", in, rest)
	}
}

// referenceSOCKS reads a greeting and request the way RFC 1928 lays them
// out, independently of socksRequest, and says whether the agent should
// accept it.
func referenceSOCKS(in []byte) (host string, port uint16, ok bool) {
	if len(in) < 2 || in[0] != 5 || len(in) < 2+int(in[1]) {
		return "", 0, false
	}
	methods, req := in[2:2+int(in[1])], in[2+int(in[1]):]
	if !slices.Contains(methods, 0) || len(req) < 5 || req[0] != 5 || req[1] != 1 || req[3] != 3 {
		return "", 0, false
	}
	n := int(req[4])
	if len(req) < 5+n+2 || n == 0 {
		return "", 0, false
	}
	port = binary.BigEndian.Uint16(req[5+n:])
	return string(req[5 : 5+n]), port, port != 0
}
