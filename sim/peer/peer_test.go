package peer

import (
	"context"
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

// clients makes one Client per name, all of tenant acme, trusting acme's CA.
func clients(t testing.TB, names ...string) []*Client {
	t.Helper()
	dir := t.TempDir()
	ca, err := pki.NewCA("acme")
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(dir, "ca.pem")
	os.WriteFile(caFile, ca.CertPEM(), 0o600)
	var out []*Client
	for _, n := range names {
		c, k, err := ca.Issue(pki.Identity{Tenant: "acme", Name: n, Kind: pki.KindAgent}, false)
		if err != nil {
			t.Fatal(err)
		}
		cf, kf, _ := pki.WriteFiles(dir, n, c, k)
		cl, err := New(Config{CAFile: caFile, CertFile: cf, KeyFile: kf})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, cl)
	}
	return out
}

// fakeBroker pairs the first two data connections without checking tokens
// and relays them, flipping the byte at offset flipAt of each direction
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
				if _, werr := dst.Write(buf[:n]); werr != nil || err != nil {
					dst.Close()
					return
				}
			}
		}
		go relay(cs[0], cs[1])
		relay(cs[1], cs[0])
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
		readErr bool  // the handshake works but reading the stream fails
	}{
		{"right peer", dst, -1, nil, false},
		{"broker pairs another device", mallory, -1, pki.ErrWrongPeer, false},
		{"broker flips a byte after the handshake", dst, 50000, nil, true},
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
			if tc.readErr {
				if err == nil {
					t.Fatalf("read %d bytes of a tampered stream without an error", len(got))
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
