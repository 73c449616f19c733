package endpoint

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/c2clab/c2clab/sim/device"
)

// start runs cfg until the test ends and returns the service addresses. The
// cleanup checks that Run returns nil promptly after cancellation.
func start(t testing.TB, cfg Config) map[string]string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan map[string]string, 1)
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, func(a map[string]string) { ready <- a }) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v after cancel, want nil", err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("Run did not return within 5s of cancel")
		}
	})
	select {
	case a := <-ready:
		return a
	case err := <-done:
		t.Fatalf("Run: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("Run not ready within 5s")
	}
	return nil
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// expectDropped reads from c and fails unless the server closed the
// connection without sending a byte.
func expectDropped(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	b, err := io.ReadAll(c)
	if len(b) != 0 {
		t.Fatalf("server answered %x, want a drop", b)
	}
	if err != nil && !isReset(err) {
		t.Fatalf("read: %v, want EOF or reset (a drop)", err)
	}
}

func allServices() []device.Service {
	return []device.Service{{Kind: "rdp"}, {Kind: "smb"}, {Kind: "msra"}, {Kind: "echo"}, {Kind: "bulk"}}
}

func TestRunServesEveryKind(t *testing.T) {
	addrs := start(t, Config{Services: allServices()})
	if len(addrs) != 5 {
		t.Fatalf("addrs = %v, want 5 services", addrs)
	}
	ctx := testCtx(t)
	if r, err := RDPConnect(ctx, dial(t, addrs["rdp:0"]), ProtocolSSL|ProtocolHybrid); err != nil || r.Selected != ProtocolSSL {
		t.Errorf("rdp: %v, %v; want ssl selected", r, err)
	}
	if d, err := SMBNegotiate(ctx, dial(t, addrs["smb:0"])); err != nil || d != "3.1.1" {
		t.Errorf("smb: %q, %v; want 3.1.1", d, err)
	}
	if _, err := BulkReceive(ctx, dial(t, addrs["bulk:0"]), 1<<20, 7); err != nil {
		t.Errorf("bulk: %v", err)
	}
	echo := dial(t, addrs["echo:0"]).(*net.TCPConn)
	msg := []byte("hello through the relay")
	echo.Write(msg)
	echo.CloseWrite()
	echo.SetReadDeadline(time.Now().Add(3 * time.Second))
	if got, err := io.ReadAll(echo); err != nil || !bytes.Equal(got, msg) {
		t.Errorf("echo returned %q, %v; want %q", got, err, msg)
	}
}

func TestMSRAReadsAndClosesOnEOF(t *testing.T) {
	addrs := start(t, Config{Services: []device.Service{{Kind: "msra"}}})
	c := dial(t, addrs["msra:0"]).(*net.TCPConn)
	if _, err := c.Write(bytes.Repeat([]byte("x"), 100<<10)); err != nil {
		t.Fatalf("write: %v", err)
	}
	c.CloseWrite()
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	b, err := io.ReadAll(c)
	if err != nil || len(b) != 0 {
		t.Fatalf("msra sent %q, %v; want nothing and EOF", b, err)
	}
}

func TestBlockInterfaceIP(t *testing.T) {
	const ifIP = "127.0.0.7" // 127.0.0.0/8 is all loopback on Linux
	for _, tc := range []struct {
		name          string
		block         bool
		open, refused string
	}{
		{"firewall allows the interface IP", false, ifIP, "127.0.0.1"},
		{"firewall blocks the interface IP", true, "127.0.0.1", ifIP},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addrs := start(t, Config{IP: ifIP, BlockInterfaceIP: tc.block, Services: []device.Service{{Kind: "rdp"}}})
			_, port, _ := net.SplitHostPort(addrs["rdp:0"])
			_, err := net.DialTimeout("tcp", net.JoinHostPort(tc.refused, port), 2*time.Second)
			if !errors.Is(err, syscall.ECONNREFUSED) {
				t.Errorf("dial %s:%s: %v, want connection refused", tc.refused, port, err)
			}
			r, err := RDPConnect(testCtx(t), dial(t, net.JoinHostPort(tc.open, port)), ProtocolSSL)
			if err != nil || r.SourceRef != RDPSourceRef {
				t.Errorf("rdp via %s: %v, %v", tc.open, r, err)
			}
		})
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"bad ip", Config{IP: "192.168.1"}, `ip "192.168.1"`},
		{"unknown kind", Config{Services: []device.Service{{Kind: "vnc", Port: 5900}}}, `"vnc:5900": unknown kind`},
		{"port out of range", Config{Services: []device.Service{{Kind: "rdp", Port: 70000}}}, "out of range"},
		{"duplicate", Config{Services: []device.Service{{Kind: "rdp", Port: 0}, {Kind: "rdp", Port: 0}}}, "listed twice"},
		{"rdp protocol", Config{RDP: device.RDP{Protocols: []string{"tls"}}}, `rdp protocol "tls"`},
		{"smb dialect", Config{SMB: device.SMB{Dialect: "1.0"}}, `smb dialect "1.0"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			called := false
			err := Run(context.Background(), tc.cfg, func(map[string]string) { called = true })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Run: %v, want error containing %q", err, tc.want)
			}
			if called {
				t.Error("ready was called for an invalid config")
			}
		})
	}
}

func TestRunFailsWhenPortTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	err = Run(context.Background(), Config{Services: []device.Service{{Kind: "echo", Port: 0}, {Kind: "rdp", Port: port}}}, nil)
	if !errors.Is(err, syscall.EADDRINUSE) || !strings.Contains(err.Error(), "rdp:") {
		t.Fatalf("Run: %v, want EADDRINUSE naming the rdp service", err)
	}
}

func TestRunClosesConnectionsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan map[string]string, 1)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{Services: []device.Service{{Kind: "msra"}}}, func(a map[string]string) { ready <- a })
	}()
	c := dial(t, (<-ready)["msra:0"])
	c.Write([]byte("held"))
	time.Sleep(20 * time.Millisecond) // let the server accept and start reading
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Run did not return within 2s of cancel with a connection open")
	}
	expectDropped(t, c)
}
