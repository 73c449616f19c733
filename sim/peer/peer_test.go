package peer

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/c2clab/c2clab/sim/code"
	"github.com/c2clab/c2clab/sim/pki"
	"github.com/c2clab/c2clab/sim/seal"
	"github.com/c2clab/c2clab/sim/wire"
)

// pkiEnv is a cloud CA and tenant acme's CA, with acme's agents' trust
// bundle (cloud + tenant) written to bundle.
type pkiEnv struct {
	dir           string
	cloud, tenant *pki.CA
	bundle        string
}

func newPKI(t testing.TB) *pkiEnv {
	t.Helper()
	e := &pkiEnv{dir: t.TempDir()}
	var err error
	if e.cloud, err = pki.NewCA("cloud"); err != nil {
		t.Fatal(err)
	}
	if e.tenant, err = pki.NewCA("acme"); err != nil {
		t.Fatal(err)
	}
	e.bundle = filepath.Join(e.dir, "trust.pem")
	if err := os.WriteFile(e.bundle, append(e.cloud.CertPEM(), e.tenant.CertPEM()...), 0o600); err != nil {
		t.Fatal(err)
	}
	return e
}

// issue writes a certificate of id from ca and returns its files.
func (e *pkiEnv) issue(t testing.TB, ca *pki.CA, id pki.Identity, hosts ...string) (cert, key string) {
	t.Helper()
	c, k, err := ca.Issue(id, len(hosts) > 0, hosts...)
	if err != nil {
		t.Fatal(err)
	}
	cert, key, err = pki.WriteFiles(e.dir, id.Name+"-"+string(id.Kind), c, k)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// client makes a Client of tenant acme named name whose certificate ca
// issued, trusting the bundle.
func (e *pkiEnv) client(t testing.TB, ca *pki.CA, name string) *Client {
	t.Helper()
	cf, kf := e.issue(t, ca, pki.Identity{Tenant: "acme", Name: name, Kind: pki.KindAgent})
	cl, err := New(Config{Role: wire.RoleAgent, CAFile: e.bundle, CertFile: cf, KeyFile: kf,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// clients makes one Client per name, all of tenant acme.
func clients(t testing.TB, names ...string) []*Client {
	t.Helper()
	e := newPKI(t)
	var out []*Client
	for _, n := range names {
		out = append(out, e.client(t, e.tenant, n))
	}
	return out
}

// fakeBroker pairs the first two data connections without checking tokens
// and relays them (half-closing as the broker does), flipping the byte at offset flipAt of each direction
// (-1: none), as a broker that pairs the wrong peers or alters bytes would.
func fakeBroker(t testing.TB, flipAt int64) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		var cs [2]net.Conn
		for i := range cs {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
			if _, err := wire.ReadPreamble(c); err != nil {
				return
			}
			cs[i] = c
		}
		for _, c := range cs {
			wire.WriteAnswer(c, "")
		}
		relay := func(dst, src net.Conn) {
			buf := make([]byte, 64<<10)
			var off int64
			for {
				n, err := src.Read(buf)
				if i := flipAt - off; flipAt >= 0 && i >= 0 && i < int64(n) {
					buf[i] ^= 0x40
				}
				off += int64(n)
				_, werr := dst.Write(buf[:n])
				switch {
				case werr == nil && err == io.EOF: // half-close, as the broker does
					dst.(*net.TCPConn).CloseWrite()
					return
				case werr != nil || err != nil:
					dst.Close()
					return
				}
			}
		}
		done := make(chan struct{})
		go func() { relay(cs[0], cs[1]); close(done) }()
		relay(cs[1], cs[0])
		<-done
	}()
	return l.Addr().String()
}

func TestEndToEndTLS(t *testing.T) {
	cl := clients(t, "src", "dst", "mallory")
	src, dst, mallory := cl[0], cl[1], cl[2]
	srcPeer := wire.Peer{Tenant: "acme", Name: "src", Kind: "agent"}
	dstPeer := wire.Peer{Tenant: "acme", Name: "dst", Kind: "agent"}
	tests := []struct {
		name    string
		server  *Client
		flipAt  int64
		wantErr error // of the source's DialSource
		readErr error // the handshake works but reading the stream fails so
	}{
		{"right peer", dst, -1, nil, nil},
		{"broker pairs another device", mallory, -1, pki.ErrWrongPeer, nil},
		{"broker flips a byte after the handshake", dst, 50000, nil, seal.ErrAuth},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr := fakeBroker(t, tc.flipAt)
			for _, c := range []*Client{src, tc.server} {
				c.cfg.Broker.Data = addr
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			srvErr := make(chan error, 1)
			go func() {
				tc, _, err := tc.server.DialDestination(ctx, &wire.Incoming{Token: wire.Token{1}, Source: srcPeer})
				if err == nil {
					tc.Write(make([]byte, 100000))
					tc.CloseWrite() // end-of-stream
					tc.Close()
				}
				srvErr <- err
			}()
			tconn, c, err := src.DialSource(ctx, &wire.ConnectResult{Token: wire.Token{2}, Peer: &dstPeer}, nil)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || c != code.BrkProtocolError {
					t.Fatalf("DialSource = %v, %s; want %v", err, c, tc.wantErr)
				}
				<-srvErr
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer tconn.Close()
			got, err := io.ReadAll(tconn)
			if tc.readErr != nil {
				if !errors.Is(err, tc.readErr) {
					t.Fatalf("read %d bytes of a tampered stream: %v, want %v", len(got), err, tc.readErr)
				}
				t.Logf("tampering detected: %v", err)
				return
			}
			if err != nil || len(got) != 100000 {
				t.Fatalf("read %d bytes, %v", len(got), err)
			}
			if err := <-srvErr; err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestResumptionThroughFrames: the session ticket the destination sends
// before the switch reaches the source's cache, so the second connection
// resumes; bytes the source sends right behind its Finished are not eaten
// by the destination's TLS stack.
func TestResumptionThroughFrames(t *testing.T) {
	cl := clients(t, "src", "dst")
	src, dst := cl[0], cl[1]
	srcPeer := wire.Peer{Tenant: "acme", Name: "src", Kind: "agent"}
	dstPeer := wire.Peer{Tenant: "acme", Name: "dst", Kind: "agent"}
	for i, wantResumed := range []bool{false, true} {
		addr := fakeBroker(t, -1)
		src.cfg.Broker.Data, dst.cfg.Broker.Data = addr, addr
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		type result struct {
			tun *Tunnel
			err error
		}
		dstc := make(chan result, 1)
		go func() {
			tun, _, err := dst.DialDestination(ctx, &wire.Incoming{Token: wire.Token{1}, Source: srcPeer})
			dstc <- result{tun, err}
		}()
		s, _, err := src.DialSource(ctx, &wire.ConnectResult{Token: wire.Token{2}, Peer: &dstPeer}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if _, err := s.Write([]byte("ping")); err != nil {
			t.Fatal(err)
		}
		s.CloseWrite()
		d := <-dstc
		if d.err != nil {
			t.Fatal(d.err)
		}
		defer d.tun.Close()
		if got, err := io.ReadAll(d.tun); err != nil || string(got) != "ping" {
			t.Fatalf("connection %d: destination read %q, %v", i, got, err)
		}
		d.tun.Write([]byte("pong"))
		d.tun.CloseWrite()
		if got, err := io.ReadAll(s); err != nil || string(got) != "pong" {
			t.Fatalf("connection %d: source read %q, %v", i, got, err)
		}
		if s.Resumed != wantResumed || d.tun.Resumed != wantResumed {
			t.Fatalf("connection %d: resumed source %v, destination %v; want %v", i, s.Resumed, d.tun.Resumed, wantResumed)
		}
	}
}

// TestPipeResetsLocalOnTamper: a frame altered on the way is never
// delivered, and the local service sees a reset, not a clean end it could
// take for the whole stream.
func TestPipeResetsLocalOnTamper(t *testing.T) {
	cl := clients(t, "src", "dst")
	src, dst := cl[0], cl[1]
	addr := fakeBroker(t, 5000) // past the handshake, inside the first frame
	src.cfg.Broker.Data, dst.cfg.Broker.Data = addr, addr
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() { // the destination relays to a local service at l
		tun, _, err := dst.DialDestination(ctx, &wire.Incoming{Token: wire.Token{1},
			Source: wire.Peer{Tenant: "acme", Name: "src", Kind: "agent"}})
		if err != nil {
			return
		}
		local, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			tun.Close()
			return
		}
		dst.Pipe(tun, local.(*net.TCPConn))
	}()
	s, _, err := src.DialSource(ctx, &wire.ConnectResult{Token: wire.Token{2},
		Peer: &wire.Peer{Tenant: "acme", Name: "dst", Kind: "agent"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Write(make([]byte, 10000))
	s.CloseWrite()
	svc, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	svc.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(svc)
	if len(got) != 0 || !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("service read %d bytes, %v; want none and a reset", len(got), err)
	}
}
