package peer

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/c2clab/c2clab/sim/code"
	"github.com/c2clab/c2clab/sim/pki"
	"github.com/c2clab/c2clab/sim/seal"
	"github.com/c2clab/c2clab/sim/wire"
)

// HandshakeTimeout bounds the end-to-end TLS handshake over the relay, and
// the destination's switch record after it, counted from the pairing answer. The wait for the answer itself is bounded
// by wire.TokenLifetime, counted from the start of the data connection.
const HandshakeTimeout = 5 * time.Second

// ErrRefused is wrapped when the broker refused a data connection; the
// error's code.Code says why.
var ErrRefused = errors.New("data connection refused by the broker")

// ErrNoAnswer is wrapped when no pairing answer came in time (or the
// connection failed before it).
var ErrNoAnswer = errors.New("no pairing answer from the broker")

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

// Tunnel is the data path of one relayed connection after the end-to-end
// handshake: sealed frames keyed by it (docs/PROTOCOL.md section 7.1).
type Tunnel struct {
	*seal.Conn
	// ConnID is the broker's connId, for logs.
	ConnID string
	// Resumed reports whether the end-to-end TLS session was resumed.
	Resumed bool
}

// DialSource opens the source side of an allowed connection: data
// connection (pre's, if not nil), pairing, then the TLS client handshake
// with the destination, then the switch to sealed frames.
// On failure the code says what to record.
func (c *Client) DialSource(ctx context.Context, res *wire.ConnectResult, pre *Predial) (*Tunnel, code.Code, error) {
	raw, err := c.dialData(ctx, res.Token, pre)
	if err != nil {
		return nil, failCode(err), err
	}
	// seal.Records: the TLS stack must not read into the frames behind
	// the handshake.
	t := tls.Client(seal.Records(raw), c.peerTLS(identity(res.Peer)))
	return c.handshake(ctx, t, raw, c.cfg.Seal.Client, res.ConnID)
}

// DialDestination opens the destination side of an incoming connection:
// data connection, pairing, then the TLS server handshake with the source,
// then the switch to sealed frames.
func (c *Client) DialDestination(ctx context.Context, m *wire.Incoming) (*Tunnel, code.Code, error) {
	raw, err := c.dialData(ctx, m.Token, nil)
	if err != nil {
		return nil, failCode(err), err
	}
	t := tls.Server(seal.Records(raw), c.peerTLS(identity(&m.Source)))
	return c.handshake(ctx, t, raw, c.cfg.Seal.Server, m.ConnID)
}

// handshake waits for the pairing answer, at most pairTimeout, and then
// runs the end-to-end handshake and the switch to frames, at most
// handshakeTimeout from the answer (raw re-arms its deadline when the
// answer arrives).
func (c *Client) handshake(ctx context.Context, t *tls.Conn, raw *dataConn,
	switchTo func(*tls.Conn, net.Conn) (*seal.Conn, error), connID string) (*Tunnel, code.Code, error) {
	raw.SetDeadline(time.Now().Add(c.pairTimeout))
	if err := t.HandshakeContext(ctx); err != nil {
		raw.Close()
		if errors.Is(err, ErrRefused) || errors.Is(err, ErrNoAnswer) {
			return nil, failCode(err), err
		}
		return nil, code.BrkProtocolError, fmt.Errorf("end-to-end TLS: %w", err)
	}
	// The frames run on the TCP connection itself, not through t.
	f, err := switchTo(t, raw.TCPConn)
	if err != nil {
		raw.Close()
		return nil, code.BrkProtocolError, fmt.Errorf("end-to-end frames: %w", err)
	}
	raw.SetDeadline(time.Time{})
	return &Tunnel{Conn: f, ConnID: connID, Resumed: t.ConnectionState().DidResume}, "", nil
}

func failCode(err error) code.Code {
	var c code.Code
	if errors.As(err, &c) {
		return c
	}
	return code.BrkMtSetupTimeout
}

// Pipe copies between the tunnel and a local TCP connection until both
// directions end, then closes both. Each read from local goes out as one
// frame at once, read into the frame buffer and sealed in place; each
// frame's plaintext is written to local from the buffer it was opened in.
// A direction that ends cleanly is passed on as end-of-stream plus FIN
// (towards the tunnel) or FIN (towards the local socket); an error aborts
// both (a reset towards the local socket) and the first error is logged.
// up counts bytes from local into the tunnel, down bytes from the tunnel
// to local.
func (c *Client) Pipe(t *Tunnel, local *net.TCPConn) (up, down int64) {
	var once sync.Once
	var first error // the error that aborted the relay, set once
	abort := func(err error) {
		once.Do(func() { first = err })
		local.SetLinger(0) // a reset: the local end must not take a cut stream for a clean end
		t.Close()
		local.Close()
	}
	done := make(chan int64, 1)
	go func() {
		n, err := t.ReadFrom(local)
		if err == nil {
			err = t.CloseWrite() // end-of-stream frame, then FIN
		}
		if err != nil {
			abort(fmt.Errorf("local to tunnel: %w", err))
		}
		done <- n
	}()
	down, err := t.WriteTo(local)
	if err != nil {
		abort(fmt.Errorf("tunnel to local: %w", err))
	} else {
		local.CloseWrite()
	}
	up = <-done // after this, first is settled
	t.Close()
	local.Close()
	c.logAbort(t.ConnID, first)
	return up, down
}

// logAbort logs why a relay was aborted. A frame that fails its checks,
// or a stream cut before its end-of-stream (by the peer aborting, or by
// the path), is a warning: it is what tampering looks like.
func (c *Client) logAbort(connID string, err error) {
	switch {
	case err == nil:
	case errors.Is(err, seal.ErrAuth), errors.Is(err, seal.ErrMalformed):
		c.log.Warn("relay failed: a frame is not authentic", "conn", connID, "reason", err)
	case errors.Is(err, seal.ErrTruncated):
		c.log.Warn("relay cut: the stream ended without its end-of-stream", "conn", connID, "reason", err)
	default:
		c.log.Info("relay aborted", "conn", connID, "reason", err)
	}
}
