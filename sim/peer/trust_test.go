package peer

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/c2clab/c2clab/sim/code"
	"github.com/c2clab/c2clab/sim/pki"
	"github.com/c2clab/c2clab/sim/wire"
)

// TestDataPathTrustsTenantCAOnly: a certificate the cloud CA issued is no
// peer, whatever its Subject says, in either direction.
func TestDataPathTrustsTenantCAOnly(t *testing.T) {
	e := newPKI(t)
	src, dst := e.client(t, e.tenant, "src"), e.client(t, e.tenant, "dst")
	// The impostors hold cloud-CA certificates naming acme's devices, and
	// accept anything themselves, as an attacker's would.
	anyCA := x509.NewCertPool()
	anyCA.AddCert(e.cloud.Cert())
	anyCA.AddCert(e.tenant.Cert())
	fakeSrc, fakeDst := e.client(t, e.cloud, "src"), e.client(t, e.cloud, "dst")
	fakeSrc.verify, fakeDst.verify = pki.NewVerifier(anyCA), pki.NewVerifier(anyCA)
	srcPeer := wire.Peer{Tenant: "acme", Name: "src", Kind: "agent"}
	dstPeer := wire.Peer{Tenant: "acme", Name: "dst", Kind: "agent"}
	tests := []struct {
		name     string
		src, dst *Client
		refuser  string // "source", "destination" or "" (both accept)
	}{
		{"tenant CA both sides", src, dst, ""},
		{"cloud CA issued the destination", src, fakeDst, "source"},
		{"cloud CA issued the source", fakeSrc, dst, "destination"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr := fakeBroker(t, -1)
			tc.src.cfg.Broker.Data, tc.dst.cfg.Broker.Data = addr, addr
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			dstErr := make(chan error, 1)
			go func() {
				conn, _, err := tc.dst.DialDestination(ctx, &wire.Incoming{Token: wire.Token{1}, Source: srcPeer})
				if err == nil {
					conn.Close()
				}
				dstErr <- err
			}()
			conn, c, srcErr := tc.src.DialSource(ctx, &wire.ConnectResult{Token: wire.Token{2}, Peer: &dstPeer}, nil)
			errs := map[string]error{"source": srcErr, "destination": <-dstErr}
			if srcErr == nil {
				// The TLS client's handshake ends before the server has
				// checked its certificate: a refused source learns it at
				// its first Read, from the alert in front of the switch.
				_, err := conn.Read(make([]byte, 1))
				conn.Close()
				if tc.refuser == "destination" && (err == nil || errors.Is(err, io.EOF)) {
					t.Fatalf("refused source's first Read: %v, want the destination's alert", err)
				}
				t.Logf("source's first Read: %v", err)
			}
			if tc.refuser == "" {
				if errs["source"] != nil || errs["destination"] != nil {
					t.Fatalf("source: %v; destination: %v; want both to accept", errs["source"], errs["destination"])
				}
				return
			}
			if err := errs[tc.refuser]; !errors.Is(err, pki.ErrUntrusted) {
				t.Fatalf("%s: %v, want %v", tc.refuser, err, pki.ErrUntrusted)
			}
			if tc.refuser == "source" && c != code.BrkProtocolError {
				t.Fatalf("source recorded %q, want BRK_PROTOCOL_ERROR", c)
			}
		})
	}
}

// fakeControl is a broker control listener presenting cert: it answers
// hello and register as a broker would.
func fakeControl(t *testing.T, cert, key string) string {
	t.Helper()
	kp, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{kp},
		MinVersion: tls.VersionTLS13, ClientAuth: tls.RequireAnyClientCert})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				c := wire.NewConn(nc)
				defer c.Close()
				deadline := time.Now().Add(5 * time.Second)
				if _, err := c.Recv(deadline); err != nil {
					return
				}
				c.Send(&wire.Welcome{Version: wire.Version, SessionID: "s-1", Tenant: "acme", Name: "src",
					KeepaliveIntervalMs: 1000, KeepaliveTimeoutMs: 3000})
				if _, err := c.Recv(deadline); err != nil {
					return
				}
				c.Send(&wire.Registered{FQDNRegistered: true, FQDNRegisteredError: code.FQDNMatch, Available: true})
				c.Recv(deadline) // until the client goes
			}()
		}
	}()
	return l.Addr().String()
}

// TestBrokerTrustsCloudCAOnly: the broker's certificate must lead to a CA
// of the bundle other than the tenant CA, and say OU=broker.
func TestBrokerTrustsCloudCAOnly(t *testing.T) {
	e := newPKI(t)
	tests := []struct {
		name string
		ca   *pki.CA
		id   pki.Identity
		want func(error) bool
	}{
		{"cloud CA, OU=broker", e.cloud, pki.Identity{Name: "broker", Kind: pki.KindBroker},
			func(err error) bool { return err == nil }},
		{"tenant CA, OU=broker", e.tenant, pki.Identity{Name: "broker", Kind: pki.KindBroker}, func(err error) bool {
			var ua x509.UnknownAuthorityError
			return errors.As(err, &ua)
		}},
		{"cloud CA, OU=agent", e.cloud, pki.Identity{Tenant: "acme", Name: "broker", Kind: pki.KindAgent},
			func(err error) bool { return errors.Is(err, pki.ErrWrongPeer) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cert, key := e.issue(t, tc.ca, tc.id, "127.0.0.1")
			cl := e.client(t, e.tenant, "src")
			cl.cfg.Broker.Control = fakeControl(t, cert, key)
			cl.control.ServerName = "127.0.0.1"
			s, err := cl.dial(context.Background())
			if s != nil {
				s.conn.Close()
			}
			if !tc.want(err) {
				t.Fatalf("dial: %v", err)
			}
			t.Logf("dial: %v", err)
		})
	}
}

// TestSplitTrust: New refuses a bundle it cannot split.
func TestSplitTrust(t *testing.T) {
	e := newPKI(t)
	other, _ := pki.NewCA("other")
	cf, kf := e.issue(t, e.tenant, pki.Identity{Tenant: "acme", Name: "pc", Kind: pki.KindAgent})
	write := func(name string, pems ...[]byte) string {
		var b []byte
		for _, p := range pems {
			b = append(b, p...)
		}
		f := filepath.Join(e.dir, name)
		os.WriteFile(f, b, 0o600)
		return f
	}
	tests := []struct {
		name   string
		bundle string
		ok     bool
	}{
		{"tenant and cloud", e.bundle, true},
		{"tenant CA only", write("tenant.pem", e.tenant.CertPEM()), false},
		{"no CA issued this device", write("others.pem", e.cloud.CertPEM(), other.CertPEM()), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(Config{CAFile: tc.bundle, CertFile: cf, KeyFile: kf})
			if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrTrustBundle)) {
				t.Fatalf("New: %v, want ok %v", err, tc.ok)
			}
			t.Logf("New: %v", err)
		})
	}
}

// stallBroker accepts data connections and reads their preamble; with
// answer it then sends the paired answer. Either way it relays nothing.
func stallBroker(t *testing.T, answer bool) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		close(done)
		l.Close()
	})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if _, err := wire.ReadPreamble(c); err == nil && answer {
					wire.WriteAnswer(c, "")
				}
				<-done
			}()
		}
	}()
	return l.Addr().String()
}

// TestDataPathBounds: the wait for the pairing answer and the handshake
// after it have separate bounds, and each failure its own code.
func TestDataPathBounds(t *testing.T) {
	tests := []struct {
		name    string
		answer  bool
		want    code.Code
		wantErr error
	}{
		{"no pairing answer", false, code.BrkMtSetupTimeout, ErrNoAnswer},
		{"paired, peer silent", true, code.BrkProtocolError, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := clients(t, "src")[0]
			src.cfg.Broker.Data = stallBroker(t, tc.answer)
			src.pairTimeout, src.handshakeTimeout = 300*time.Millisecond, 200*time.Millisecond
			start := time.Now()
			_, c, err := src.DialSource(context.Background(), &wire.ConnectResult{Token: wire.Token{2},
				Peer: &wire.Peer{Tenant: "acme", Name: "dst", Kind: "agent"}}, nil)
			t.Logf("after %v: %s, %v", time.Since(start), c, err)
			if err == nil || c != tc.want || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
				t.Fatalf("DialSource: %s, %v; want %s", c, err, tc.want)
			}
		})
	}
}
