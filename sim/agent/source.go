package agent

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/c2clab/c2clab/sim/code"
	"github.com/c2clab/c2clab/sim/peer"
	"github.com/c2clab/c2clab/sim/policy"
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

// segment returns the most specific segment for fqdn in the current
// session's list (SEG-3).
func (a *agent) segment(fqdn string) (wire.Segment, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	i, _, ok := a.index.Lookup(fqdn)
	if !ok {
		return wire.Segment{}, false
	}
	return a.segments[i], true
}

// route is the source side's segment choice (policy.Engine.Route).
func (a *agent) route(fqdn string, port uint16) policy.SourceRoute {
	a.mu.Lock()
	e := a.router
	a.mu.Unlock()
	if e == nil {
		return policy.SourceRoute{Code: code.BrkAppNotFound}
	}
	return e.Route(fqdn, "tcp", port, policy.DeviceAttrsFromProfile(&a.cfg.Profile))
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
	if !a.cfg.Profile.PrivateAccessEnabled() {
		return fail(code.CltPrivateAccessDisabled, true)
	}
	// The segment list first: a name it does not cover is answered at once,
	// with or without a session. Before the first registration there is no
	// list, so nothing is intercepted; after a lost session the last list
	// stays in force while the agent reconnects.
	// SEG-3, SEG-4, SEG-6, SEG-8: the segment as the broker would choose
	// it; not covered, bypassed or a port outside it stops here.
	if r := a.route(fqdn, port); r.Code != "" {
		return fail(r.Code, true)
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
