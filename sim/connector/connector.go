// Package connector is a minimal App Connector: it registers with the broker
// as serving server groups and carries Client to Server connections to the
// application servers it knows (SEG-2, SEG-3), over the same c2c/1 protocol
// and end-to-end TLS data path as the agents.
package connector

import (
	"context"
	"errors"
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
	// CAFile is the trust bundle: the tenant CA (sources) and the cloud CA
	// (broker), kept apart as docs/PROTOCOL.md section 2 says.
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
	out := c.client.ServeIncoming(ctx, s, m, code.AstMtunnelFailedForward, func(ctx context.Context) (*net.TCPConn, error) {
		return c.dialServer(ctx, m.FQDN, m.Port)
	})
	if out.Code != "" {
		c.log.Info("connection failed", "conn", m.ConnID, "fqdn", m.FQDN, "port", m.Port, "code", out.Code, "reason", out.Err)
		return
	}
	c.log.Info("connection closed", "conn", m.ConnID, "fqdn", m.FQDN, "port", m.Port, "bytesToClient", out.Up, "bytesFromClient", out.Down)
}

// dialServer opens a connection to the application server for fqdn.
func (c *connector) dialServer(ctx context.Context, fqdn string, port uint16) (*net.TCPConn, error) {
	ip, ok := c.hosts[domain.Normalize(fqdn)]
	if !ok {
		return nil, fmt.Errorf("%w for %q", errUnknownServer, fqdn)
	}
	d := net.Dialer{Timeout: DialTimeout}
	addr := net.JoinHostPort(ip, strconv.Itoa(int(port)))
	srv, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial application server %q: %w", addr, err)
	}
	return srv.(*net.TCPConn), nil
}

var errUnknownServer = errors.New("no application server known")
