package broker

import (
	"fmt"
	"time"

	"github.com/c2clab/c2clab/sim/code"
	"github.com/c2clab/c2clab/sim/device"
	"github.com/c2clab/c2clab/sim/policy"
	"github.com/c2clab/c2clab/sim/wire"
)

// connect runs one connection setup for src: decide, ask the destination,
// answer the source. Every attempt is logged in User Activity (LOG-1). The
// setup holds one of src's in-flight slots until it is refused or, once it
// has a pairing, until the pairing is paired or fails.
func (b *broker) connect(src *session, m *wire.Connect) {
	defer b.wg.Done()
	defer src.endConnect(m.ID) // if no answer could be sent
	release := src.releaseSetup
	defer func() {
		if release != nil {
			release()
		}
	}()
	start := time.Now()
	req := policy.SourceRequest(&src.preg)
	req.Platform = device.OS(src.reg.Platform)
	req.FQDN, req.Port, req.Proto, req.Time = m.FQDN, m.Port, m.Proto, start
	d := src.t.engine.Decide(req)
	act := b.newActivity(src, m, &d, start)
	res := &wire.ConnectResult{ID: m.ID, Segment: act.Segment, Rule: act.Rule}
	if !d.Allowed {
		b.refuse(src, act, res, d.Code, "policy refused")
		return
	}
	dst, c, why := b.destination(src.t, &d)
	if c != "" {
		b.refuse(src, act, res, c, why)
		return
	}
	b.logs.update(func() { act.Destination = dst.ident.Name })
	p, err := b.newPairing(act, start, release, src.done, dst.done)
	if err != nil {
		b.refuse(src, act, res, code.BrkMtSetupTimeout, err.Error())
		return
	}
	release = nil // the pairing releases the slot
	inc := &wire.Incoming{ConnID: act.ID, FQDN: m.FQDN, Port: m.Port, Proto: m.Proto, Source: *src.peer(), Token: p.tokens[1]}
	if c, why := b.askDestination(dst, inc); c != "" {
		p.cancel(b)
		b.refuse(src, act, res, c, why)
		return
	}
	res.OK, res.ConnID, res.Token, res.Peer = true, act.ID, p.tokens[0], dst.peer()
	if err := src.answer(res); err != nil {
		// The source's own session is gone: a source-side code, not the
		// destination's C2C_CLIENT_CONN_EXPIRED.
		b.logs.update(func() {
			act.Trace = append(act.Trace, fmt.Sprintf("the source's session ended before connect_result could be sent: %v", err))
		})
		p.fail(b, code.MtClosedTLSConnGoneClientClosed)
		return
	}
	src.log.Info("connect allowed", "conn", act.ID, "fqdn", m.FQDN, "port", m.Port, "to", dst.ident.Name,
		"accessType", act.AccessType, "segment", act.Segment, "rule", act.Rule, "decideUs", time.Since(start).Microseconds())
}

// refuseBusy answers a connect above wire.MaxSetupsInFlight at once, with
// no decision and no goroutine, and logs it in User Activity (LOG-1).
func (b *broker) refuseBusy(src *session, m *wire.Connect) {
	act := &Activity{ID: newID("c-"), Tenant: src.t.id, AccessType: string(policy.ClientToClient), User: src.reg.User,
		Source: src.ident.Name, SourceIP: src.remoteIP, FQDN: m.FQDN, Port: int(m.Port), Proto: m.Proto,
		Status: StatusOpen, StartUs: micros(time.Now())}
	b.logs.addActivity(act)
	why := fmt.Sprintf("refused before any policy decision: the session already has %d connection setups in flight", wire.MaxSetupsInFlight)
	b.refuse(src, act, &wire.ConnectResult{ID: m.ID}, code.BrkProtocolError, why)
}

func (b *broker) newActivity(src *session, m *wire.Connect, d *policy.Decision, start time.Time) *Activity {
	act := &Activity{ID: newID("c-"), Tenant: src.t.id, AccessType: string(d.AccessType), User: src.reg.User,
		Source: src.ident.Name, SourceIP: src.remoteIP, FQDN: m.FQDN, Port: int(m.Port), Proto: m.Proto,
		Action: string(policy.Allow), Status: StatusOpen, StartUs: micros(start),
		Trace: d.Trace} // Decide allocates Trace per call: the activity may own it
	if act.AccessType == "" {
		act.AccessType = string(policy.ClientToClient)
	}
	if d.Segment != nil {
		act.Segment = d.Segment.Name
	}
	if d.Rule != nil {
		act.Rule = d.Rule.Name
		act.Action = string(d.Rule.Action)
	}
	if !d.Allowed {
		act.Action = string(policy.Deny)
	}
	if u := d.Undecided; u != nil {
		act.Action, act.Undecided = "UNDECIDED", u.Attribute+" for "+u.ObjectType
	}
	b.logs.addActivity(act)
	return act
}

// refuse closes the activity with c and tells the source.
func (b *broker) refuse(src *session, act *Activity, res *wire.ConnectResult, c code.Code, why string) {
	now := time.Now()
	b.logs.update(func() {
		act.Status, act.Code, act.EndUs = StatusClosed, c, micros(now)
		if why != "" && why != "policy refused" {
			act.Trace = append(act.Trace, why)
		}
	})
	res.OK, res.Code, res.Message = false, c, why
	src.answer(res)
	src.log.Info("connect refused", "conn", act.ID, "fqdn", act.FQDN, "port", act.Port, "code", c,
		"segment", act.Segment, "rule", act.Rule, "why", why)
}

// destination finds the session that serves the decision: the enrolled
// client for Client to Client; for Client to Server, of the connected App
// Connectors serving one of the segment's server groups, the one that
// registered first (a stable choice, so runs are repeatable).
func (b *broker) destination(t *tenant, d *policy.Decision) (*session, code.Code, string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if d.AccessType == policy.ClientToClient {
		s, ok := b.sessions[d.Destination]
		if !ok {
			return nil, code.C2CClientConnExpired, fmt.Sprintf("destination session %q has ended", d.Destination)
		}
		return s, "", ""
	}
	var best *session
	var groups []string
	if d.Segment != nil {
		groups = d.Segment.ServerGroups
	}
	for _, g := range groups {
		// Each list is in registration order: its first is its earliest.
		if l := b.connectors[groupKey{t, g}]; len(l) > 0 && (best == nil || l[0].seq < best.seq) {
			best = l[0]
		}
	}
	if best == nil {
		return nil, code.AstMtunnelFailedForward,
			fmt.Sprintf("no App Connector serving server groups %q is connected", groups)
	}
	return best, "", ""
}

// askDestination sends incoming once dst is registered and waits for its
// incoming_result, at most wire.IncomingTimeout in all.
func (b *broker) askDestination(dst *session, inc *wire.Incoming) (code.Code, string) {
	timer := time.NewTimer(wire.IncomingTimeout)
	defer timer.Stop()
	ch := dst.expect(inc.ConnID)
	defer dst.unexpect(inc.ConnID)
	select {
	case <-dst.ready:
	case <-dst.done:
		return code.C2CClientConnExpired, "destination's session ended before it registered"
	case <-timer.C:
		return code.BrkMtSetupTimeout, "destination did not register in time"
	}
	if err := dst.conn.Send(inc); err != nil {
		return code.C2CClientConnExpired, fmt.Sprintf("send incoming: %v", err)
	}
	select {
	case r := <-ch:
		if r.OK {
			return "", ""
		}
		return r.Code, r.Message
	case <-dst.done:
		return code.C2CClientConnExpired, "destination's session ended during setup"
	case <-timer.C:
		return code.BrkMtSetupTimeout, fmt.Sprintf("no incoming_result within %v", wire.IncomingTimeout)
	case <-b.ctx.Done():
		return code.BrkMtSetupTimeout, "broker stopping"
	}
}
