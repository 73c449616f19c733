package peer

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/c2clab/c2clab/sim/code"
	"github.com/c2clab/c2clab/sim/pki"
	"github.com/c2clab/c2clab/sim/wire"
)

// HandshakeTimeout bounds the end-to-end TLS handshake over the relay,
// counted from the pairing answer. The wait for the answer itself is bounded
// by wire.TokenLifetime, counted from the start of the data connection.
const HandshakeTimeout = 5 * time.Second

// ErrRefused is wrapped when the broker refused a data connection; the
// error's code.Code says why.
var ErrRefused = errors.New("data connection refused by the broker")

// ErrNoAnswer is wrapped when no pairing answer came in time (or the
// connection failed before it).
var ErrNoAnswer = errors.New("no pairing answer from the broker")

// bufSize is the copy buffer of each direction: large reads let TLS fill
// whole 16 KiB records and keep syscalls few.
const bufSize = 256 << 10

// Predial is a data connection's TCP handshake started early, in parallel
// with connect, so that it is off the setup's critical path.
type Predial struct {
	done chan struct{} // closed when the dial has ended
	conn *net.TCPConn  // set before done is closed, if the dial worked
	err  error
}

// Predial starts dialing the broker's data address. Pass the result to
// DialSource, or Close it.
func (c *Client) Predial(ctx context.Context) *Predial {
	p := &Predial{done: make(chan struct{})}
	go func() {
		defer close(p.done)
		d := net.Dialer{Timeout: wire.PreambleTimeout}
		nc, err := d.DialContext(ctx, "tcp", c.cfg.Broker.Data)
		if err != nil {
			p.err = fmt.Errorf("dial data %q: %w", c.cfg.Broker.Data, err)
			return
		}
		p.conn = nc.(*net.TCPConn)
	}()
	return p
}

// Close waits for the dial to end and closes what it opened.
func (p *Predial) Close() {
	if p == nil {
		return
	}
	<-p.done
	if p.conn != nil {
		p.conn.Close()
	}
}

// take waits for the dial and returns its connection.
func (p *Predial) take() (*net.TCPConn, error) {
	<-p.done
	return p.conn, p.err
}

// dialData opens a data connection (or uses pre's) and sends the preamble
// with tok. It does not wait for the pairing answer: the returned
// connection's first Read consumes it, so the TLS ClientHello follows the
// preamble at once and waits in the broker's socket buffer until pairing.
func (c *Client) dialData(ctx context.Context, tok wire.Token, pre *Predial) (*dataConn, error) {
	if pre == nil {
		pre = c.Predial(ctx)
	}
	tc, err := pre.take()
	if err != nil {
		return nil, err
	}
	tc.SetWriteDeadline(time.Now().Add(wire.PreambleTimeout))
	if err := wire.WritePreamble(tc, tok); err != nil {
		tc.Close()
		return nil, err
	}
	tc.SetWriteDeadline(time.Time{})
	return newDataConn(tc, c.handshakeTimeout), nil
}

// peerTLS is the end-to-end TLS config: TLS 1.3, both sides present their
// certificates, and each checks that the other is exactly the peer the
// broker named, signed by the tenant CA. X25519 only: the hybrid
// post-quantum exchange costs a third of the handshake on a slow CPU and a
// lab has nothing to keep secret for decades.
func (c *Client) peerTLS(want pki.Identity) *tls.Config {
	cfg := &tls.Config{
		Certificates:     []tls.Certificate{c.cert},
		MinVersion:       tls.VersionTLS13,
		CurvePreferences: []tls.CurveID{tls.X25519},
		// The chain and identity are checked in VerifyConnection: lab peers
		// have no DNS names to verify, their Subject is their identity.
		InsecureSkipVerify:          true,
		ClientAuth:                  tls.RequireAnyClientCert,
		DynamicRecordSizingDisabled: true,
		// Resumption: the client cache is keyed by ServerName, so each peer
		// gets its own key (hashed: SNI is visible to the broker).
		ClientSessionCache: c.sessions,
		ServerName:         sessionKey(want),
		VerifyConnection: func(cs tls.ConnectionState) error {
			if want.Tenant != c.self.Tenant {
				return fmt.Errorf("%w: peer of tenant %q, this device is of %q", pki.ErrWrongPeer, want.Tenant, c.self.Tenant)
			}
			return c.verify.VerifyPeer(cs.PeerCertificates, want, time.Now())
		},
	}
	cfg.SetSessionTicketKeys([][32]byte{c.ticketKey})
	return cfg
}

func sessionKey(id pki.Identity) string {
	h := sha256.Sum256([]byte(id.Tenant + "\x00" + string(id.Kind) + "\x00" + id.Name))
	return hex.EncodeToString(h[:16]) + ".peer.c2c.invalid"
}

func identity(p *wire.Peer) pki.Identity {
	return pki.Identity{Tenant: p.Tenant, Name: p.Name, Kind: pki.Kind(p.Kind)}
}

// DialSource opens the source side of an allowed connection: data
// connection (pre's, if not nil), pairing, then the TLS client handshake
// with the destination.
// On failure the code says what to record.
func (c *Client) DialSource(ctx context.Context, res *wire.ConnectResult, pre *Predial) (*tls.Conn, code.Code, error) {
	raw, err := c.dialData(ctx, res.Token, pre)
	if err != nil {
		return nil, failCode(err), err
	}
	t := tls.Client(raw, c.peerTLS(identity(res.Peer)))
	return c.handshake(ctx, t, raw)
}

// DialDestination opens the destination side of an incoming connection:
// data connection, pairing, then the TLS server handshake with the source.
func (c *Client) DialDestination(ctx context.Context, m *wire.Incoming) (*tls.Conn, code.Code, error) {
	raw, err := c.dialData(ctx, m.Token, nil)
	if err != nil {
		return nil, failCode(err), err
	}
	t := tls.Server(raw, c.peerTLS(identity(&m.Source)))
	return c.handshake(ctx, t, raw)
}

// handshake waits for the pairing answer, at most pairTimeout, and then
// runs the end-to-end handshake, at most handshakeTimeout from the answer
// (raw re-arms its deadline when the answer arrives).
func (c *Client) handshake(ctx context.Context, t *tls.Conn, raw *dataConn) (*tls.Conn, code.Code, error) {
	raw.SetDeadline(time.Now().Add(c.pairTimeout))
	if err := t.HandshakeContext(ctx); err != nil {
		raw.Close()
		if errors.Is(err, ErrRefused) || errors.Is(err, ErrNoAnswer) {
			return nil, failCode(err), err
		}
		return nil, code.BrkProtocolError, fmt.Errorf("end-to-end TLS: %w", err)
	}
	raw.SetDeadline(time.Time{})
	return t, "", nil
}

func failCode(err error) code.Code {
	var c code.Code
	if errors.As(err, &c) {
		return c
	}
	return code.BrkMtSetupTimeout
}

// Pipe copies between the end-to-end TLS connection and a local TCP
// connection until both directions end, then closes both. A direction that
// ends cleanly is passed on as close_notify plus FIN (towards the tunnel) or
// FIN (towards the local socket); an error aborts both. up counts bytes
// from local into the tunnel, down bytes from the tunnel to local.
func (c *Client) Pipe(t *tls.Conn, local *net.TCPConn) (up, down int64) {
	upBuf, downBuf := c.bufs.Get().(*[]byte), c.bufs.Get().(*[]byte)
	defer c.bufs.Put(upBuf)
	defer c.bufs.Put(downBuf)
	done := make(chan int64, 1)
	go func() {
		n, err := io.CopyBuffer(writerOnly{t}, readerOnly{local}, *upBuf)
		if err != nil {
			t.NetConn().Close()
			local.Close()
		} else {
			t.CloseWrite() // close_notify
			if raw, ok := t.NetConn().(interface{ CloseWrite() error }); ok {
				raw.CloseWrite() // FIN
			}
		}
		done <- n
	}()
	down, err := io.CopyBuffer(writerOnly{local}, readerOnly{t}, *downBuf)
	if err != nil {
		t.NetConn().Close()
		local.Close()
	} else {
		local.CloseWrite()
	}
	up = <-done // the goroutine is done with upBuf
	t.NetConn().Close()
	local.Close()
	return up, down
}

// readerOnly and writerOnly hide ReadFrom/WriteTo so io.CopyBuffer uses the
// given buffer.
type readerOnly struct{ io.Reader }

type writerOnly struct{ io.Writer }
