// Package peer is the client end of the c2c/1 protocol (docs/PROTOCOL.md)
// that the reference agent and the App Connector share: the control session
// with its keepalive and reconnect, and the data path: an end-to-end TLS
// handshake between the two sides of a relayed connection, then sealed
// frames keyed by it (sim/seal).
package peer

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/c2clab/c2clab/sim/pki"
	"github.com/c2clab/c2clab/sim/seal"
	"github.com/c2clab/c2clab/sim/wire"
)

// Reconnect backoff after a failed dial or a lost session.
const (
	MinBackoff = 100 * time.Millisecond
	MaxBackoff = 5 * time.Second
)

// ErrNoSession is returned when no registered session is available.
var ErrNoSession = errors.New("no registered session with the broker")

// BrokerAddrs is where the broker listens, as the agent's config names it.
type BrokerAddrs struct {
	Control    string // control channel (mTLS)
	Data       string // data path (plain TCP, spliced)
	ServerName string // name or IP the broker's certificate must carry; "" means Control's host
}

// Config configures a Client.
type Config struct {
	Role   string // wire.RoleAgent or wire.RoleConnector
	Broker BrokerAddrs
	// CAFile is the trust bundle: the tenant CA, which issued CertFile and
	// is the only CA trusted for data-path peers, and the cloud CA(s), the
	// only ones trusted for the broker (see splitTrust).
	CAFile, CertFile, KeyFile string
	Software                  string
	Register                  wire.Register
	Logger                    *slog.Logger
	// Incoming handles one incoming in its own goroutine; it must answer
	// with Session.Answer. ctx ends when the client stops.
	Incoming func(ctx context.Context, s *Session, m *wire.Incoming)
	// State is called with each new registered session, and with nil when
	// it is lost, before Session sees the change.
	State func(s *Session)
	// Seal is the data path's dialect: the protocol's when zero, which
	// only the certification self-test's broken agents change.
	Seal seal.Dialect `json:"-"`
}

// Client keeps one registered control session with the broker up while
// Run runs. Its methods are safe for concurrent use.
type Client struct {
	cfg  Config
	log  *slog.Logger
	cert tls.Certificate
	self pki.Identity
	// verify checks data-path peers against the tenant CA only; the
	// control channel trusts the other CAs of the bundle (see splitTrust).
	verify *pki.Verifier
	// pairTimeout bounds the wait for the pairing answer, handshakeTimeout
	// the end-to-end handshake after it (wire.TokenLifetime and
	// HandshakeTimeout; tests shorten them).
	pairTimeout, handshakeTimeout time.Duration
	// sessions and ticketKey let end-to-end TLS resume with a peer seen
	// before: no certificates or signatures, which halves setup time.
	sessions  tls.ClientSessionCache
	ticketKey [32]byte
	control   *tls.Config
	wg        sync.WaitGroup // incoming handlers

	mu    sync.Mutex    // guards sess, up
	sess  *Session      // current registered session, or nil
	up    chan struct{} // closed when sess becomes non-nil; replaced when it is lost
	first chan struct{} // closed when the first connection attempt has ended
}

// New loads the certificates; it does not connect.
func New(cfg Config) (*Client, error) {
	cert, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("peer: load certificate: %w", err)
	}
	self, err := pki.IdentityOf(cert.Leaf)
	if err != nil {
		return nil, fmt.Errorf("peer: own certificate: %w", err)
	}
	tenantCAs, cloudCAs, err := splitTrust(cfg.CAFile, cert)
	if err != nil {
		return nil, fmt.Errorf("peer: %w", err)
	}
	c := &Client{cfg: cfg, log: cfg.Logger, cert: cert, self: self, verify: pki.NewVerifier(tenantCAs),
		pairTimeout: wire.TokenLifetime, handshakeTimeout: HandshakeTimeout,
		sessions: tls.NewLRUClientSessionCache(256), up: make(chan struct{}), first: make(chan struct{})}
	if _, err := rand.Read(c.ticketKey[:]); err != nil {
		return nil, fmt.Errorf("peer: ticket key: %w", err)
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	serverName := cfg.Broker.ServerName
	if serverName == "" { // the certificate then must name the control address's host
		serverName, _, _ = net.SplitHostPort(cfg.Broker.Control)
	}
	c.control = &tls.Config{
		Certificates: []tls.Certificate{cert},
		RootCAs:      cloudCAs, // never the tenant CA: a device is no broker
		ServerName:   serverName,
		MinVersion:   tls.VersionTLS13,
		// X25519 only, as on the data path (peerTLS): the hybrid ML-KEM
		// exchange was a seventh of an agent's registration CPU and an
		// eighth of the broker's (docs/PERFORMANCE.md, "Scale").
		CurvePreferences: []tls.CurveID{tls.X25519},
		VerifyConnection: func(cs tls.ConnectionState) error {
			// The chain and name were verified; the broker must also say it is one.
			id, err := pki.IdentityOf(cs.PeerCertificates[0])
			if err == nil && id.Kind != pki.KindBroker {
				err = fmt.Errorf("%w: %s is not a broker", pki.ErrWrongPeer, id)
			}
			return err
		},
	}
	return c, nil
}

// Identity is the identity of the client's own certificate.
func (c *Client) Identity() pki.Identity { return c.self }

// FirstAttempt is closed once the first connection attempt has ended,
// registered or not.
func (c *Client) FirstAttempt() <-chan struct{} { return c.first }

// Run connects, registers and serves sessions, reconnecting with
// exponential backoff, until ctx ends; then it waits for its handlers.
func (c *Client) Run(ctx context.Context) error {
	defer c.wg.Wait()
	backoff := MinBackoff
	first := true
	for ctx.Err() == nil {
		s, err := c.dial(ctx)
		if err == nil {
			backoff = MinBackoff
			c.publish(s)
		}
		if first { // after publish: FirstAttempt's waiters see the session
			close(c.first)
			first = false
		}
		if err != nil {
			c.log.Warn("broker connection failed", "retryIn", backoff, "reason", err)
		} else {
			err = s.serve(ctx, c)
			c.publish(nil)
			c.log.Info("session ended", "session", s.Welcome.SessionID, "reason", err)
		}
		if !sleep(ctx, backoff) {
			break
		}
		backoff = min(2*backoff, MaxBackoff)
	}
	if first {
		close(c.first)
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (c *Client) publish(s *Session) {
	if c.cfg.State != nil {
		c.cfg.State(s)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sess = s
	if s != nil {
		close(c.up)
	} else {
		c.up = make(chan struct{})
	}
}

// Session returns the registered session, waiting for one until ctx ends.
func (c *Client) Session(ctx context.Context) (*Session, error) {
	for {
		c.mu.Lock()
		s, up := c.sess, c.up
		c.mu.Unlock()
		if s != nil {
			return s, nil
		}
		select {
		case <-up:
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %w", ErrNoSession, ctx.Err())
		}
	}
}

// Current returns the registered session or nil, without waiting.
func (c *Client) Current() *Session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess
}
