// Package connector is a minimal App Connector: it registers with the broker
// as serving server groups and carries Client to Server connections to the
// application servers it knows (SEG-2, SEG-3), over the same c2c/1 protocol
// and end-to-end TLS data path as the agents.
package connector

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/c2clab/c2clab/sim/code"
	"github.com/c2clab/c2clab/sim/domain"
	"github.com/c2clab/c2clab/sim/peer"
	"github.com/c2clab/c2clab/sim/wire"
)

// Software is what the connector reports in hello.
const Software = "c2clab-connector"

// DialTimeout bounds the dial of an application server.
const DialTimeout = 3 * time.Second

// Config configures an App Connector.
type Config struct {
	Name   string
	Broker peer.BrokerAddrs `json:"broker"`
	// CAFile trusts the cloud CA (broker) and the tenant CA (sources).
	CAFile string
	// CertFile and KeyFile are the connector's certificate (OU=connector)
	// from its tenant CA.
	CertFile, KeyFile string
	ServerGroups      []string
	// Hosts maps an application FQDN to the IP address of its server.
	Hosts map[string]string
	// Logger receives one line per event; nil means slog.Default().
	Logger *slog.Logger `json:"-"`
}

// Run serves until ctx is cancelled. It calls ready with no addresses once
// the first attempt to register has ended (the connector listens nowhere).
func Run(ctx context.Context, cfg Config, ready func(addrs map[string]string)) error {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	hosts := make(map[string]string, len(cfg.Hosts))
	for name, ip := range cfg.Hosts {
		hosts[domain.Normalize(name)] = ip
	}
	c := &connector{log: log, hosts: hosts}
	client, err := peer.New(peer.Config{
		Role: wire.RoleConnector, Broker: cfg.Broker, CAFile: cfg.CAFile, CertFile: cfg.CertFile, KeyFile: cfg.KeyFile,
		Software: Software, Logger: log, Register: wire.Register{ServerGroups: cfg.ServerGroups},
		Incoming: c.incoming,
	})
	if err != nil {
		return fmt.Errorf("connector %q: %w", cfg.Name, err)
	}
	c.client = client
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		client.Run(ctx)
	}()
	select {
	case <-client.FirstAttempt():
	case <-ctx.Done():
	}
	if ready != nil {
		ready(map[string]string{})
	}
	<-ctx.Done()
	wg.Wait()
	return nil
}

type connector struct {
	log    *slog.Logger
	hosts  map[string]string // normalized FQDN -> IP; read-only
	client *peer.Client
}

// incoming dials the application server and joins the source.
func (c *connector) incoming(ctx context.Context, s *peer.Session, m *wire.Incoming) {
	ip, ok := c.hosts[domain.Normalize(m.FQDN)]
	var srv net.Conn
	err := fmt.Errorf("no application server known for %q", m.FQDN)
	if ok {
		d := net.Dialer{Timeout: DialTimeout}
		srv, err = d.DialContext(ctx, "tcp", net.JoinHostPort(ip, strconv.Itoa(int(m.Port))))
	}
	if err != nil {
		c.log.Warn("application server unreachable", "conn", m.ConnID, "fqdn", m.FQDN, "port", m.Port, "reason", err)
		s.Answer(&wire.IncomingResult{ConnID: m.ConnID, Code: code.AstMtunnelFailedForward, Message: err.Error()})
		return
	}
	if err := s.Answer(&wire.IncomingResult{ConnID: m.ConnID, OK: true}); err != nil {
		srv.Close()
		return
	}
	t, fc, err := c.client.DialDestination(ctx, m)
	if err != nil {
		srv.Close()
		c.log.Warn("data path failed", "conn", m.ConnID, "code", fc, "reason", err)
		return
	}
	stop := context.AfterFunc(ctx, func() { // the connector stops: end the relay now
		t.NetConn().Close()
		srv.Close()
	})
	defer stop()
	up, down := peer.Pipe(t, srv.(*net.TCPConn))
	c.log.Info("connection closed", "conn", m.ConnID, "fqdn", m.FQDN, "port", m.Port, "bytesToClient", up, "bytesFromClient", down)
}
