package peer

import (
	"context"
	"net"

	"github.com/c2clab/c2clab/sim/code"
	"github.com/c2clab/c2clab/sim/wire"
)

// Outcome is how one connection on the destination side ended, for the
// caller's records.
type Outcome struct {
	// Code is "" when the connection was set up and relayed until it
	// closed; else why it failed.
	Code code.Code
	// Err is the failure in detail, nil when Code is "".
	Err error
	// Up counts bytes from the local end into the tunnel, Down bytes from
	// the tunnel to the local end (application bytes).
	Up, Down int64
}

// DialLocal opens the local end of an incoming connection: a device's
// service (agent) or an application server (App Connector).
type DialLocal func(ctx context.Context) (*net.TCPConn, error)

// ServeIncoming is the destination side of m, shared by the agent and the
// App Connector: dial the local end, answer incoming_result (a refusal
// carries refuse and the dial error), join the source over the data path,
// then relay until both directions end or ctx ends.
func (c *Client) ServeIncoming(ctx context.Context, s *Session, m *wire.Incoming, refuse code.Code, dial DialLocal) Outcome {
	local, err := dial(ctx)
	if err != nil {
		c.log.Warn("local end unreachable", "conn", m.ConnID, "fqdn", m.FQDN, "port", m.Port, "reason", err)
		s.Answer(&wire.IncomingResult{ConnID: m.ConnID, Code: refuse, Message: err.Error()})
		return Outcome{Code: refuse, Err: err}
	}
	if err := s.Answer(&wire.IncomingResult{ConnID: m.ConnID, OK: true}); err != nil {
		local.Close() // our session is gone: the broker expires the setup too
		return Outcome{Code: code.C2CClientConnExpired, Err: err}
	}
	t, fc, err := c.DialDestination(ctx, m)
	if err != nil {
		local.Close()
		c.log.Warn("data path failed", "conn", m.ConnID, "code", fc, "reason", err)
		return Outcome{Code: fc, Err: err}
	}
	stop := context.AfterFunc(ctx, func() { // the node stops: end the relay now
		t.Close()
		local.Close()
	})
	defer stop()
	up, down := c.Pipe(t, local)
	return Outcome{Up: up, Down: down}
}
