package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/c2clab/c2clab/sim/conform"
	"github.com/c2clab/c2clab/sim/peer"
	"github.com/c2clab/c2clab/sim/wire"
)

// LocalDialTimeout bounds the destination's dial of its local service; it
// is below wire.IncomingTimeout so the broker hears the failure code.
const LocalDialTimeout = 3 * time.Second

// incoming is the destination side: deliver the connection to the local
// service at the interface IP, never 127.0.0.1 (EP-1), then join the
// source over the data path.
func (a *agent) incoming(ctx context.Context, s *peer.Session, m *wire.Incoming) {
	rec := a.newRecord(ConnRecord{ID: m.ConnID, FQDN: m.FQDN, Port: int(m.Port), Role: RoleDestination, Peer: m.Source.Name})
	out := a.client.ServeIncoming(ctx, s, m, conform.ForwardFailure, func(ctx context.Context) (*net.TCPConn, error) {
		return a.dialLocal(ctx, m.Port)
	})
	a.finish(rec, out.Code, false, out.Up, out.Down)
}

var errNoInterfaceIP = errors.New("no interface IP configured")

func (a *agent) dialLocal(ctx context.Context, port uint16) (*net.TCPConn, error) {
	ip := a.ip
	if a.cfg.Faults.DialLoopback {
		ip = "127.0.0.1"
	}
	if ip == "" {
		return nil, errNoInterfaceIP
	}
	d := net.Dialer{Timeout: LocalDialTimeout}
	addr := net.JoinHostPort(ip, strconv.Itoa(int(port)))
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial local service %q: %w", addr, err)
	}
	if n := a.cfg.Faults.CorruptEvery; n > 0 {
		return corrupter(c.(*net.TCPConn), n)
	}
	return c.(*net.TCPConn), nil
}
