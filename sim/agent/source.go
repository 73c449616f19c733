package agent

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/c2clab/c2clab/sim/code"
	"github.com/c2clab/c2clab/sim/conform"
	"github.com/c2clab/c2clab/sim/peer"
	"github.com/c2clab/c2clab/sim/wire"
)

// SOCKS5 reply codes (RFC 1928 section 6) the agent uses.
const (
	socksOK          = 0x00
	socksFailure     = 0x01
	socksNotAllowed  = 0x02
	socksNetDown     = 0x03 // "network unreachable": no session with the broker
	socksUnreachable = 0x04
	socksRefused     = 0x05
	socksBadCommand  = 0x07
	socksBadAddrType = 0x08
)

// socksReply maps a failure code to the SOCKS reply the client sees; the
// code itself goes into the ConnRecord. docs/PROTOCOL.md section 9 lists
// this mapping and a test keeps the two in step.
func socksReply(c code.Code) byte {
	switch c {
	case code.CltNoBrokerSession:
		return socksNetDown
	case code.BrkRejectedByPolicy, code.BrkNoPolicyFound, code.BrkPortNotInSegment, code.CltPortNotInSegment:
		return socksNotAllowed
	case code.C2CClientNotFound, code.C2CNotAvailable, code.C2CVersionUnsupported, code.C2CMacNotDomainJoined,
		code.CltPrivateAccessDisabled, code.BrkAppNotFound, code.C2CClientConnExpired:
		return socksUnreachable
	case code.C2CMtunnelFailedForward, code.AstMtunnelFailedForward:
		return socksRefused
	}
	return socksFailure
}

// sourceSide returns the source side of the current segment list.
func (a *agent) sourceSide() *conform.Source {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.source
}

// open sets up a relayed connection to fqdn:port for a local client. It
// returns the tunnel, or nil and the code of the failure, which it has
// already recorded.
func (a *agent) open(ctx context.Context, fqdn string, port uint16) (*peer.Tunnel, *ConnRecord, code.Code) {
	start := time.Now()
	rec := a.newRecord(ConnRecord{FQDN: fqdn, Port: int(port), Role: RoleSource})
	fail := func(c code.Code, local bool) (*peer.Tunnel, *ConnRecord, code.Code) {
		a.finish(rec, c, local, 0, 0)
		return nil, rec, c
	}
	// The segment list first: a name it does not cover is answered at once,
	// with or without a session. Before the first registration there is no
	// list, so nothing is intercepted; after a lost session the last list
	// stays in force while the agent reconnects.
	if out := a.sourceSide().Intercept(a.cfg.Profile.PrivateAccessEnabled(), a.attrs, fqdn, port, "tcp"); out.Code != "" {
		return fail(out.Code, true) // DEV-5, not intercepted, or SEG-4: nothing goes to the broker
	}
	wctx, cancel := context.WithTimeout(ctx, wire.ConnectTimeout)
	s, err := a.client.Session(wctx)
	cancel()
	if err != nil {
		a.log.Warn("no session for connection", "fqdn", fqdn, "reason", err)
		return fail(code.CltNoBrokerSession, true)
	}
	pre := a.client.Predial(ctx)
	res, err := s.Connect(ctx, fqdn, port)
	if err != nil || !res.OK {
		pre.Close()
	}
	if err != nil {
		a.log.Warn("connect failed", "fqdn", fqdn, "port", port, "reason", err)
		c := code.BrkMtSetupTimeout
		if errors.Is(err, peer.ErrSessionLost) {
			c = code.C2CClientConnExpired
		}
		return fail(c, false)
	}
	if !res.OK {
		return fail(res.Code, false)
	}
	a.update(rec, func(r *ConnRecord) { r.ID, r.Peer = res.ConnID, res.Peer.Name })
	t, c, err := a.client.DialSource(ctx, res, pre)
	if err != nil {
		a.log.Warn("data path failed", "conn", res.ConnID, "code", c, "reason", err)
		return fail(c, false)
	}
	setup := time.Since(start)
	a.update(rec, func(r *ConnRecord) { r.SetupUs = setup.Microseconds() })
	a.log.Info("connection open", "conn", res.ConnID, "fqdn", fqdn, "port", port, "peer", res.Peer.Name,
		"setupUs", setup.Microseconds(), "resumed", t.Resumed)
	return t, rec, ""
}

// handleForward tunnels one connection of a Forward listener.
func (a *agent) handleForward(c *net.TCPConn, to string) {
	defer c.Close()
	host, port, _ := splitTarget(to) // checked in listen
	t, rec, fc := a.open(a.ctx, host, port)
	if fc != "" {
		return
	}
	up, down := a.client.Pipe(t, c)
	a.finish(rec, "", false, up, down)
}
