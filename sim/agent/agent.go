// Package agent is the reference Client Connector: on the source side it
// intercepts the names the tenant's segments cover (SOCKS5, fixed TCP
// forwards, its own DNS with redirected connections) and opens relayed
// connections through the broker; on the destination side it hands each
// incoming connection to the local service at the device's interface IP
// (EP-1). It speaks only docs/PROTOCOL.md (c2c/1).
package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/c2clab/c2clab/sim/conform"
	"github.com/c2clab/c2clab/sim/device"
	"github.com/c2clab/c2clab/sim/peer"
	"github.com/c2clab/c2clab/sim/policy"
	"github.com/c2clab/c2clab/sim/wire"
)

// Software is what the agent reports in hello.
const Software = "c2clab-agent"

// Config configures an agent. Listen addresses may use port 0.
type Config struct {
	// Name is the device name in the lab (its certificate's CN).
	Name   string
	Broker peer.BrokerAddrs `json:"broker"`
	// CAFile is the trust bundle: the tenant CA that issued CertFile (the
	// only CA trusted for peers) and the cloud CA (the only one trusted for
	// the broker); docs/PROTOCOL.md section 2.
	CAFile string
	// CertFile and KeyFile are this device's certificate from its tenant CA.
	CertFile, KeyFile string
	Profile           device.Profile
	// InterfaceIP is the device's own interface address: the destination
	// side delivers connections to local services there (EP-1). Empty
	// means Profile.InterfaceIP.
	InterfaceIP string
	// SOCKS is the source side's SOCKS5 listen address; "" means none.
	SOCKS string
	// Status is the status HTTP JSON API's listen address; "" means none.
	Status string
	// Forwards are source-side local TCP listeners tunnelled to To.
	Forwards []Forward
	// DNS is the UDP listen address of the agent's resolver for the names
	// its segments cover, answered with synthetic addresses from
	// SyntheticRange; "" means none.
	DNS string
	// Intercept is the TCP listen address for connections to those
	// addresses and to the IPs and CIDRs of the segments' domainNames
	// (SEG-9), redirected there by the host's firewall (Linux; needs DNS);
	// "" means none.
	Intercept string
	// Logger receives one line per event; nil means slog.Default().
	Logger *slog.Logger `json:"-"`
	// Faults breach the agent's contract on purpose; see Faults.
	Faults Faults `json:"-"`
}

// Forward is a local listener whose connections go to To ("fqdn:port").
type Forward struct{ Listen, To string }

// agent is a running agent. Fields set in Run are read-only afterwards.
type agent struct {
	cfg    Config
	log    *slog.Logger
	client *peer.Client
	ip     string // interface IP
	ctx    context.Context
	wg     sync.WaitGroup

	mu       sync.Mutex // guards the fields below
	sess     *peer.Session
	source   *conform.Source    // intercepts by the last registration's segments; nil before the first
	attrs    policy.DeviceAttrs // what the agent reports about its device (POL-4); set in newAgent
	recs     recordRing         // the last maxRecords connections
	localSeq int
}

// Run runs the agent until ctx is cancelled. ready gets the addresses
// "socks", "status", "dns", "intercept" and "forward:<To>" once every
// listener is up and the first attempt to register with the broker has
// ended (or at once when Private Access is off, since then the agent does
// not connect).
func Run(ctx context.Context, cfg Config, ready func(addrs map[string]string)) error {
	a, err := newAgent(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	a.ctx = ctx
	addrs, listeners, err := a.listen(ctx)
	for _, l := range listeners {
		defer l.Close()
	}
	if err != nil {
		return err
	}
	var srv *http.Server
	if cfg.Status != "" {
		srv = &http.Server{Handler: a.statusHandler(), ReadHeaderTimeout: 5 * time.Second}
		l := listeners[0]
		a.goRun(func() { srv.Serve(l) })
		listeners = listeners[1:]
	}
	a.serveListeners(listeners)
	if err := a.startInterception(ctx, addrs); err != nil {
		return err
	}
	if a.cfg.Profile.PrivateAccessEnabled() {
		a.goRun(func() { a.client.Run(ctx) })
		select {
		case <-a.client.FirstAttempt():
		case <-ctx.Done():
		}
	} else {
		a.log.Info("Private Access is off: not connecting to the broker, not intercepting (DEV-5)")
	}
	a.log.Info("agent ready", "addrs", addrs)
	if ready != nil {
		ready(addrs)
	}
	<-ctx.Done()
	for _, l := range listeners {
		l.Close()
	}
	if srv != nil {
		srv.Close()
	}
	a.wg.Wait()
	a.log.Info("agent stopped")
	return nil
}

func (a *agent) goRun(f func()) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		f()
	}()
}

func newAgent(cfg Config) (*agent, error) {
	a := &agent{cfg: cfg, log: cfg.Logger, ip: cfg.InterfaceIP}
	if a.log == nil {
		a.log = slog.Default()
	}
	if a.ip == "" {
		a.ip = cfg.Profile.InterfaceIP
	}
	p := &cfg.Profile
	reg := conform.Register(p)
	cfg.Faults.applyTo(&reg, p)
	a.attrs = conform.Registration("", &reg).Device
	client, err := peer.New(peer.Config{
		Role: wire.RoleAgent, Broker: cfg.Broker, CAFile: cfg.CAFile, CertFile: cfg.CertFile, KeyFile: cfg.KeyFile,
		Software: Software, Logger: a.log,
		Register: reg,
		Incoming: a.incoming,
		State:    a.setSession,
		Seal:     cfg.Faults.Seal,
	})
	if err != nil {
		return nil, fmt.Errorf("agent %q: %w", cfg.Name, err)
	}
	a.client = client
	return a, nil
}

// listen opens the status listener (first, if any), the SOCKS listener and
// the forwards, and names them for the ready file.
func (a *agent) listen(ctx context.Context) (map[string]string, []net.Listener, error) {
	var lc net.ListenConfig
	addrs := map[string]string{}
	var ls []net.Listener
	open := func(key, addr string) error {
		l, err := lc.Listen(ctx, "tcp", addr)
		if err != nil {
			return fmt.Errorf("agent %q: listen %s: %w", a.cfg.Name, key, err)
		}
		ls = append(ls, l)
		addrs[key] = l.Addr().String()
		return nil
	}
	if a.cfg.Status != "" {
		if err := open("status", a.cfg.Status); err != nil {
			return nil, ls, err
		}
	}
	if a.cfg.SOCKS != "" {
		if err := open("socks", a.cfg.SOCKS); err != nil {
			return nil, ls, err
		}
	}
	for _, f := range a.cfg.Forwards {
		if _, _, err := splitTarget(f.To); err != nil {
			return nil, ls, fmt.Errorf("agent %q: forward %q: %w", a.cfg.Name, f.Listen, err)
		}
		if err := open("forward:"+f.To, f.Listen); err != nil {
			return nil, ls, err
		}
	}
	return addrs, ls, nil
}

// serveListeners serves SOCKS (if configured) and the forwards, in the
// order listen opened them.
func (a *agent) serveListeners(ls []net.Listener) {
	if a.cfg.SOCKS != "" {
		l := ls[0]
		ls = ls[1:]
		a.goRun(func() { a.accept(l, a.handleSOCKS) })
	}
	for i, f := range a.cfg.Forwards {
		l, to := ls[i], f.To
		a.goRun(func() { a.accept(l, func(c *net.TCPConn) { a.handleForward(c, to) }) })
	}
}

func (a *agent) accept(l net.Listener, handle func(*net.TCPConn)) {
	for {
		c, err := l.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				a.log.Warn("accept failed", "listener", l.Addr().String(), "reason", err)
			}
			return
		}
		a.goRun(func() {
			stop := context.AfterFunc(a.ctx, func() { c.Close() })
			defer stop()
			handle(c.(*net.TCPConn))
		})
	}
}

func splitTarget(to string) (string, uint16, error) {
	host, ps, err := net.SplitHostPort(to)
	if err != nil {
		return "", 0, fmt.Errorf("target %q: want fqdn:port: %w", to, err)
	}
	port, err := strconv.ParseUint(ps, 10, 16)
	if err != nil || port == 0 || host == "" {
		return "", 0, fmt.Errorf("target %q: want fqdn:port with port 1-65535", to)
	}
	return host, uint16(port), nil
}

// setSession is peer's State hook: it swaps in the new session's segments.
func (a *agent) setSession(s *peer.Session) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sess = s
	if s == nil {
		return
	}
	src, err := conform.NewSource(s.Registered.Segments)
	if err != nil {
		a.log.Warn("segment list refused: intercepting nothing", "reason", err)
	}
	a.source = src
}
