// Package endpoint runs the fake local services of a simulated device (RDP,
// SMB, MSRA, echo, bulk and the RDP shadowing model) on the device's interface IP, so that a
// destination connector has something real to deliver connections to (EP-1,
// EP-2). Each service speaks just enough of its protocol to prove that the
// bytes went through unharmed: RDP answers the X.224 Connection Request
// (MS-RDPBCGR 2.2.1.1/2.2.1.2) and does the TLS handshake that follows,
// SMB answers NEGOTIATE (MS-SMB2 2.2.3/2.2.4), bulk moves
// integrity-checked data for throughput scenarios, MSRA answers the RDP
// Connection Request an expert sends first, shadow answers `query
// session` and shadow requests per the device's settings (RA-2). The package
// also holds the client side of each, used by tests and scenario steps.
//
// The host firewall of EP-1 (Config.BlockInterfaceIP) is modelled by where
// the services listen rather than by packet filtering: a blocking device's
// services listen on 127.0.0.1 only, on the same ports. A connector that
// dials the interface IP, as a conforming one must, is refused (and must
// report C2C_MTUNNEL_FAILED_FORWARD); a connector that wrongly dials
// 127.0.0.1 still gets through, so the scenario catches it. This needs no
// privileges and works on every backend. On the loopback backend every
// machine shares 127.0.0.1, so a second blocking device (of this lab or of
// another running at the same time) finds the port taken: it then serves
// nothing on that port. Its interface IP is refused either way, which is
// all the firewall promises; a connector that wrongly dials 127.0.0.1
// reaches the other device's service and still gets through.
package endpoint

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/c2clab/c2clab/sim/device"
)

// Config describes the services of one device. The zero value serves RDP on
// port 3389 of 127.0.0.1.
type Config struct {
	// IP is the device's interface IP to listen on, e.g. "127.0.0.7" (EP-1).
	// Empty: 127.0.0.1.
	IP string
	// Services are the services to run; port 0 picks a free port (tests).
	// Empty: RDP on 3389, as device.Profile.ServicesOrDefault.
	Services []device.Service
	// RDP holds the protocols the RDP service accepts (RDP.Protocols, in
	// preference order; empty: ssl, hybrid). RDP.Enabled is not consulted:
	// the caller decides which services exist.
	RDP device.RDP
	// SMB holds the highest dialect the SMB service speaks (empty: 3.1.1).
	SMB device.SMB
	// InboundRules are the enabled Windows inbound firewall rules by
	// display name (device.Firewall.InboundRules). Only the shadow service
	// consults them (RA-2); empty: none enabled.
	InboundRules []string
	// ConsentTimeout is how long the shadow service's modelled user takes
	// not to answer a consent prompt (RDP.Consent "timeout"). Zero: 1 s.
	ConsentTimeout time.Duration
	// BlockInterfaceIP models a host firewall that refuses connections to
	// the interface IP (EP-1): the services listen on 127.0.0.1 instead,
	// same ports. See the package doc.
	BlockInterfaceIP bool
	// IdleTimeout closes an RDP, SMB or MSRA connection, or a bulk
	// connection that has not sent its header, after this long without
	// data from the client. Zero: 2 minutes.
	IdleTimeout time.Duration
	// Log receives one line per connection that is dropped or fails.
	// Nil: discard.
	Log *slog.Logger
}

const defaultIdleTimeout = 2 * time.Minute

// Service kinds, as in device.Service.Kind.
const (
	KindRDP  = "rdp"
	KindSMB  = "smb"
	KindMSRA = "msra"
	KindEcho = "echo"
	KindBulk = "bulk"
)

// Key is the key of a service in the map Run passes to ready: "<kind>:<port>"
// with the configured port.
func Key(s device.Service) string { return s.Kind + ":" + strconv.Itoa(s.Port) }

// Run serves cfg's services until ctx is done. Once every listener is up it
// calls ready (if not nil) with the actual address of each service, keyed by
// Key. It returns nil when ctx ends, after closing every listener and
// connection and waiting for their goroutines, or an error if the config is
// invalid or a listener cannot be opened or fails.
func Run(ctx context.Context, cfg Config, ready func(addrs map[string]string)) error {
	s, err := newServer(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	addrs, err := s.listen(ctx)
	if err != nil {
		s.closeListeners()
		return err
	}
	for i, ln := range s.listeners {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := s.acceptLoop(ctx, ln, s.services[i]); err != nil {
				cancel(err)
			}
		}()
	}
	if ready != nil {
		ready(addrs)
	}
	<-ctx.Done()
	s.closeListeners()
	s.closeConns()
	s.wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// server is the runtime state of Run.
type server struct {
	cfg       Config
	handlers  map[string]handler
	services  []device.Service
	listeners []net.Listener // set by listen before any goroutine starts
	log       *slog.Logger
	rdp       rdpPolicy
	rdpTLS    *tls.Config // made at start when an rdp or msra service runs; nil otherwise
	smb       smbDialect
	wg        sync.WaitGroup

	mu    sync.Mutex            // guards conns and done
	conns map[net.Conn]struct{} // open connections, closed at shutdown
	done  bool                  // shutdown started: close new connections at once
}

// handler serves one accepted connection; it must return when the
// connection is closed.
type handler func(ctx context.Context, c net.Conn) error

func newServer(cfg Config) (*server, error) {
	if cfg.IP == "" {
		cfg.IP = "127.0.0.1"
	}
	if _, err := netip.ParseAddr(cfg.IP); err != nil {
		return nil, fmt.Errorf("endpoint: ip %q: want an IP address such as 192.168.1.100", cfg.IP)
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = defaultIdleTimeout
	}
	s := &server{cfg: cfg, conns: make(map[net.Conn]struct{}), log: cfg.Log}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	var err error
	if s.rdp, err = newRDPPolicy(cfg.RDP.Protocols); err != nil {
		return nil, err
	}
	if s.smb, err = parseSMBDialect(cfg.SMB.Dialect); err != nil {
		return nil, err
	}
	s.handlers = map[string]handler{
		KindRDP: s.serveRDP, KindSMB: s.serveSMB, KindMSRA: s.serveMSRA,
		KindEcho: serveEcho, KindBulk: s.serveBulk, KindShadow: s.serveShadow,
	}
	s.services = cfg.Services
	if len(s.services) == 0 {
		s.services = []device.Service{{Kind: KindRDP, Port: 3389}}
	}
	if err := s.makeRDPCertificate(); err != nil {
		return nil, err
	}
	seen := make(map[string]bool)
	for _, svc := range s.services {
		if s.handlers[svc.Kind] == nil {
			return nil, fmt.Errorf("endpoint: service %q: unknown kind, want rdp, smb, msra, echo, bulk or shadow", Key(svc))
		}
		if svc.Port < 0 || svc.Port > 65535 {
			return nil, fmt.Errorf("endpoint: service %q: port out of range 0-65535", Key(svc))
		}
		if seen[Key(svc)] {
			return nil, fmt.Errorf("endpoint: service %q: listed twice", Key(svc))
		}
		seen[Key(svc)] = true
	}
	return s, nil
}

// bindIP is where the services listen: the interface IP, or 127.0.0.1 when
// the modelled firewall blocks the interface IP.
func (s *server) bindIP() string {
	if s.cfg.BlockInterfaceIP {
		return "127.0.0.1"
	}
	return s.cfg.IP
}

func (s *server) listen(ctx context.Context) (map[string]string, error) {
	var lc net.ListenConfig
	addrs := make(map[string]string, len(s.services))
	for _, svc := range s.services {
		addr := net.JoinHostPort(s.bindIP(), strconv.Itoa(svc.Port))
		ln, err := lc.Listen(ctx, "tcp", addr)
		if err != nil && s.cfg.BlockInterfaceIP && errors.Is(err, syscall.EADDRINUSE) {
			continue // another blocking machine holds 127.0.0.1 here: see the package doc
		}
		if err != nil {
			return nil, fmt.Errorf("endpoint: service %q: listen on %q: %w", Key(svc), addr, err)
		}
		s.listeners = append(s.listeners, ln)
		addrs[Key(svc)] = ln.Addr().String()
	}
	return addrs, nil
}

func (s *server) closeListeners() {
	for _, ln := range s.listeners {
		ln.Close()
	}
}

func (s *server) closeConns() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.done = true
	for c := range s.conns {
		c.Close()
	}
}

// track registers c for closing at shutdown; false means shutdown has begun.
func (s *server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *server) untrack(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
}

func (s *server) acceptLoop(ctx context.Context, ln net.Listener, svc device.Service) error {
	h := s.handlers[svc.Kind]
	var backoff time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				select {
				case <-time.After(backoff):
					continue
				case <-ctx.Done():
					return nil
				}
			}
			return fmt.Errorf("endpoint: service %q: accept: %w", Key(svc), err)
		}
		backoff = 0
		if !s.track(c) {
			c.Close()
			return nil
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.untrack(c)
			defer c.Close()
			if err := h(ctx, c); err != nil && ctx.Err() == nil {
				s.log.Info("connection ended", "service", Key(svc), "remote", c.RemoteAddr().String(), "err", err)
			}
		}()
	}
}
