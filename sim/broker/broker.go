// Package broker is the lab's cloud broker: it authenticates agents and App
// Connectors on a mutual-TLS control channel (docs/PROTOCOL.md, c2c/1),
// decides every connection with sim/policy, pairs the two sides' data
// connections and splices them without terminating their end-to-end TLS,
// and keeps the User Status and User Activity logs behind an admin API.
package broker

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/c2clab/c2clab/sim/code"
	"github.com/c2clab/c2clab/sim/conform"
	"github.com/c2clab/c2clab/sim/pki"
	"github.com/c2clab/c2clab/sim/policy"
	"github.com/c2clab/c2clab/sim/wire"
)

// Config configures a broker. Addresses may use port 0.
type Config struct {
	// Control is the listen address of the agents' control channel (mTLS).
	Control string
	// Data is the listen address of the data path (plain TCP, spliced).
	Data string
	// Admin is the listen address of the admin HTTP JSON API.
	Admin string
	// AdminToken is the bearer token the admin API requires; empty refuses
	// every admin request but /healthz.
	AdminToken string
	// CertFile and KeyFile are the broker's server certificate and key
	// (issued by the lab's cloud CA).
	CertFile, KeyFile string
	Tenants           []Tenant
	// KeepaliveInterval and KeepaliveTimeout are announced in welcome. Zero
	// means wire.DefaultKeepaliveInterval and wire.DefaultKeepaliveTimeout.
	KeepaliveInterval time.Duration `json:",omitzero"`
	KeepaliveTimeout  time.Duration `json:",omitzero"`
	// RelayDelay is a test knob, zero in every real run: the relay waits
	// that long after every chunk it moves, so that ci/perf can show it
	// catches a slower relay. The lab sets it from lab.Spec.RelayDelay.
	RelayDelay time.Duration `json:",omitzero"`
	// MaxRecords bounds each of User Status and User Activity; the oldest
	// finished records are dropped first, open ones (a connected session,
	// an open connection) never. Zero means 10,000.
	MaxRecords int `json:",omitzero"`
	// Logger receives one line per event; nil means slog.Default().
	Logger *slog.Logger `json:"-"`

	// afterUnregister, if set, runs when a session ending has left the
	// policy engine but not yet the broker's maps: tests connect in that
	// window.
	afterUnregister func()
}

// Tenant is one organization the broker serves.
type Tenant struct {
	ID string // organization
	// CAFile is the tenant's CA: its agents present certificates it signed.
	CAFile string
	Policy policy.Config
}

// broker is one running broker. Fields set in Run are read-only afterwards.
type broker struct {
	cfg       Config
	log       *slog.Logger
	tlsConfig *tls.Config
	tenants   []*tenant
	interval  time.Duration
	timeout   time.Duration
	ctx       context.Context
	wg        sync.WaitGroup

	mu         sync.Mutex              // guards the fields below
	sessions   map[string]*session     // by session ID
	connectors map[groupKey][]*session // App Connector sessions by server group, in registration order
	regSeq     uint64                  // registrations so far: session.seq
	tokens     map[wire.Token]*side    // data-path tokens not yet used
	pairings   map[string]*pairing     // by conn ID, until paired or failed

	logs *records
}

// groupKey names a server group of a tenant.
type groupKey struct {
	t     *tenant
	group string
}

// tenant is a Tenant at run time.
type tenant struct {
	id       string
	verifier *pki.Verifier // the tenant CA, with a cache of verified chains
	engine   *policy.Engine
	segments []wire.Segment // what registered carries
}

// Run serves until ctx is cancelled. It calls ready (if not nil) with the
// addresses "control", "data" and "admin" once all three listen.
func Run(ctx context.Context, cfg Config, ready func(addrs map[string]string)) error {
	b, err := newBroker(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	b.ctx = ctx
	var lc net.ListenConfig
	control, err := lc.Listen(ctx, "tcp", cfg.Control)
	if err != nil {
		return fmt.Errorf("broker: listen control: %w", err)
	}
	defer control.Close()
	data, err := lc.Listen(ctx, "tcp", cfg.Data)
	if err != nil {
		return fmt.Errorf("broker: listen data: %w", err)
	}
	defer data.Close()
	admin, err := lc.Listen(ctx, "tcp", cfg.Admin)
	if err != nil {
		return fmt.Errorf("broker: listen admin: %w", err)
	}
	srv := &http.Server{Handler: b.adminHandler(), ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 3)
	b.goServe(errc, "control", func() error { return b.serveControl(control) })
	b.goServe(errc, "data", func() error { return b.serveData(data) })
	b.goServe(errc, "admin", func() error { return ignoreClosed(srv.Serve(admin)) })
	addrs := map[string]string{"control": control.Addr().String(), "data": data.Addr().String(), "admin": admin.Addr().String()}
	b.log.Info("broker ready", "control", addrs["control"], "data", addrs["data"], "admin", addrs["admin"], "tenants", len(b.tenants))
	if ready != nil {
		ready(addrs)
	}
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	cancel()
	control.Close()
	data.Close()
	srv.Close()
	b.shutdown()
	b.wg.Wait()
	b.log.Info("broker stopped")
	return err
}

func (b *broker) goServe(errc chan<- error, name string, serve func() error) {
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		if err := serve(); err != nil && b.ctx.Err() == nil {
			errc <- fmt.Errorf("broker: serve %s: %w", name, err)
		}
	}()
}

func ignoreClosed(err error) error {
	if errors.Is(err, http.ErrServerClosed) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

func newBroker(cfg Config) (*broker, error) {
	b := &broker{
		cfg:        cfg,
		log:        cfg.Logger,
		interval:   cfg.KeepaliveInterval,
		timeout:    cfg.KeepaliveTimeout,
		sessions:   map[string]*session{},
		connectors: map[groupKey][]*session{},
		tokens:     map[wire.Token]*side{},
		pairings:   map[string]*pairing{},
		logs:       newRecords(cfg.MaxRecords),
	}
	if b.log == nil {
		b.log = slog.Default()
	}
	if b.interval <= 0 {
		b.interval = wire.DefaultKeepaliveInterval
	}
	if b.timeout <= 0 {
		b.timeout = wire.DefaultKeepaliveTimeout
	}
	if b.timeout <= b.interval {
		return nil, fmt.Errorf("broker: keepalive timeout %v must exceed the interval %v", b.timeout, b.interval)
	}
	cert, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("broker: load certificate: %w", err)
	}
	b.tlsConfig = &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS13,
		ClientAuth:   tls.RequireAnyClientCert, // verified per tenant in verifyClient
		// X25519 only: the hybrid ML-KEM exchange cost the broker an
		// eighth of a registration's CPU (docs/PERFORMANCE.md, "Scale").
		// A client that sent only a hybrid key share gets a
		// HelloRetryRequest, one round trip more, and still connects.
		CurvePreferences: []tls.CurveID{tls.X25519},
	}
	if len(cfg.Tenants) == 0 {
		return nil, errors.New("broker: no tenants configured")
	}
	seen := map[string]bool{}
	for _, tc := range cfg.Tenants {
		if tc.ID == "" || seen[tc.ID] {
			return nil, fmt.Errorf("broker: tenant ID %q: want a unique non-empty ID", tc.ID)
		}
		seen[tc.ID] = true
		t, err := newTenant(tc)
		if err != nil {
			return nil, err
		}
		b.tenants = append(b.tenants, t)
	}
	return b, nil
}

func newTenant(tc Tenant) (*tenant, error) {
	pool, err := pki.LoadPool(tc.CAFile)
	if err != nil {
		return nil, fmt.Errorf("broker: tenant %q: %w", tc.ID, err)
	}
	pc := tc.Policy
	if pc.Tenant == "" {
		pc.Tenant = tc.ID
	}
	if pc.Tenant != tc.ID {
		return nil, fmt.Errorf("broker: tenant %q: policy is for tenant %q", tc.ID, pc.Tenant)
	}
	eng, err := policy.New(pc)
	if err != nil {
		return nil, fmt.Errorf("broker: tenant %q: policy: %w", tc.ID, err)
	}
	return &tenant{id: tc.ID, verifier: pki.NewVerifier(pool), engine: eng, segments: conform.Segments(pc.Segments)}, nil
}

// shutdown ends every session and pending pairing; their goroutines then
// return and Run's WaitGroup drains.
func (b *broker) shutdown() {
	b.mu.Lock()
	sessions := make([]*session, 0, len(b.sessions))
	for _, s := range b.sessions {
		sessions = append(sessions, s)
	}
	pairings := make([]*pairing, 0, len(b.pairings))
	for _, p := range b.pairings {
		pairings = append(pairings, p)
	}
	b.mu.Unlock()
	for _, s := range sessions {
		s.conn.Close()
	}
	for _, p := range pairings {
		p.fail(b, code.MtClosedTerminated)
	}
}

// closeOnDone closes c when the broker stops; call the returned func when c
// is done with.
func (b *broker) closeOnDone(c net.Conn) (stop func() bool) {
	return context.AfterFunc(b.ctx, func() { c.Close() })
}
