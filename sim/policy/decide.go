package policy

import (
	"strconv"

	"github.com/c2clab/c2clab/sim/code"
	"github.com/c2clab/c2clab/sim/domain"
)

// maxSkipLines bounds the trace lines about rules passed over because they
// use operand types the lab does not model.
const maxSkipLines = 3

// Decide answers one connection request, in ZPA's order, one trace line per
// step: (1) the most specific segment by domain, ports ignored (SEG-3);
// (2) the segment must be enabled (SEG-5); (3) it must include the port
// (SEG-4); (4) the first matching access rule in ascending order decides
// (POL-1, POL-3); (5) if none matches, POL-2's client-to-client default
// allows unless a rule applies to the segment, the segment has server groups,
// or the tenant chose the implicit block; (6) the destination: an enrolled
// client holding the FQDN (Client to Client, if available), else the
// segment's server groups (Client to Server), else C2C_CLIENT_NOT_FOUND.
//
// The returned Segment and Rule are shared with the engine and must not be
// modified.
func (e *Engine) Decide(req Request) Decision {
	d := Decision{Trace: make([]string, 0, 6)}
	// Normalized once, here: the session map needs the normalized name, and
	// with it Lookup's own Normalize is a scan that allocates nothing
	// (about 20 ns; domain.Index has no lookup that skips it).
	name := domain.Normalize(req.FQDN)
	dest := e.holder(name)
	si, pat, ok := e.index.Lookup(name)
	if !ok {
		if dest.found {
			d.AccessType = ClientToClient
		}
		d.Code = code.BrkAppNotFound
		d.Trace = append(d.Trace, "no application segment covers "+quote(req.FQDN)+" (BRK_MT_SETUP_FAIL_APP_NOT_FOUND)")
		return d
	}
	seg := &e.segs[si]
	d.Segment = seg.s
	d.AccessType = ClientToClient
	if !dest.found && len(seg.s.ServerGroups) > 0 {
		d.AccessType = ClientToServer
	}
	// The index accepted req.FQDN, so it has no characters to escape.
	d.Trace = append(d.Trace, `"`+req.FQDN+`" is in `+seg.name+" by its domain "+pat.String()+", the most specific match", seg.enabledLine)
	if !seg.s.Enabled {
		d.Code = code.BrkNoPolicyFound
		return d
	}
	if e.portStep(&d, seg, &req) && e.ruleStep(&d, si, &req) {
		destinationStep(&d, seg, dest, &req)
	}
	return d
}

// portStep is SEG-4. A conforming source agent drops a port outside the
// segment before it reaches the broker; the broker refuses it anyway.
func (e *Engine) portStep(d *Decision, seg *segment, req *Request) bool {
	proto := req.Proto
	if proto == "" {
		proto = "tcp"
	}
	var buf [8]byte
	port := strconv.AppendUint(buf[:0], uint64(req.Port), 10)
	switch {
	case proto != "tcp" && proto != "udp":
		d.Code = code.BrkPortNotInSegment
		d.Trace = append(d.Trace, "protocol "+quote(proto)+" is neither tcp nor udp, so no segment port range can include it (BRK_MT_SETUP_FAIL_PORT_NOT_IN_SEGMENT)")
		return false
	case !seg.s.Allows(proto, req.Port):
		d.Code = code.BrkPortNotInSegment
		d.Trace = append(d.Trace, proto+" port "+string(port)+" is not in "+seg.name+" ("+seg.ports+") (BRK_MT_SETUP_FAIL_PORT_NOT_IN_SEGMENT)")
		return false
	}
	d.Trace = append(d.Trace, proto+" port "+string(port)+" is in "+seg.name+" ("+seg.ports+")")
	return true
}

// ruleStep is POL-1..POL-3: the first matching rule decides; POL-2 decides
// when none matches. It reports whether the request may go on.
func (e *Engine) ruleStep(d *Decision, si int, req *Request) bool {
	var posture [8]sym
	q := e.resolve(&e.segs[si], req, posture[:0])
	c := e.candidates(si, &q)
	skipped := 0
	for rank, ok := c.next(); ok; rank, ok = c.next() {
		r := &e.rules[rank]
		matched, possible := r.match(&q)
		if matched {
			d.Rule = r.r
			d.Trace = append(d.Trace, r.matchLine)
			if r.deny {
				d.Code = code.BrkRejectedByPolicy
				return false
			}
			return true
		}
		if possible {
			if skipped++; skipped <= maxSkipLines {
				d.Trace = append(d.Trace, r.skipLine)
			}
		}
	}
	if skipped > maxSkipLines {
		d.Trace = append(d.Trace, "and "+strconv.Itoa(skipped-maxSkipLines)+" more rules passed over for criteria the lab does not model")
	}
	return e.noRuleMatched(d, &e.segs[si])
}

// resolve turns a request into symbols. Values no rule mentions become
// noSym or are dropped, as they cannot match anything; buf holds the
// posture symbols without allocating in the common case.
func (e *Engine) resolve(seg *segment, req *Request, buf []sym) request {
	ct := req.ClientType
	if ct == "" {
		ct = DefaultClientType
	}
	for _, p := range req.Posture {
		if v := e.syms.lookup(p); v != noSym {
			buf = append(buf, v)
		}
	}
	return request{
		segID:      seg.id,
		segGroup:   seg.group,
		user:       e.syms.lookup(req.User),
		groups:     e.userGroups[req.User],
		platform:   e.syms.lookup(string(req.Platform)),
		clientType: e.syms.lookup(ct),
		posture:    buf,
	}
}

func (e *Engine) noRuleMatched(d *Decision, seg *segment) bool {
	const noPolicy = " (BRK_MT_SETUP_FAIL_NO_POLICY_FOUND)"
	switch {
	case len(seg.s.ServerGroups) > 0:
		d.Trace = append(d.Trace, "no access rule matched; "+seg.name+" has server groups, and client-to-server access needs an ALLOW rule"+noPolicy)
	case e.cfg.ImplicitBlock:
		d.Trace = append(d.Trace, "no access rule matched; the tenant applies ZPA's implicit block to client-to-client too"+noPolicy)
	case seg.covered:
		d.Trace = append(d.Trace, "no access rule matched; access rules apply to "+seg.name+", so client-to-client is no longer open to every user and the implicit block applies"+noPolicy)
	default:
		d.Trace = append(d.Trace, "no access rule matched; client-to-client default allows any user of the organization (no access rule applies to "+seg.name+")")
		return true
	}
	d.Code = code.BrkNoPolicyFound
	return false
}

// destinationStep finds who serves the FQDN: an enrolled client (Client to
// Client), else the segment's server groups (Client to Server).
func destinationStep(d *Decision, seg *segment, dest destination, req *Request) {
	switch {
	case dest.found && !dest.available:
		d.Code = dest.code
		d.Trace = append(d.Trace, `"`+req.FQDN+`" is held by enrolled client session `+dest.quotedID+", which is not available for client-to-client ("+string(dest.code)+")")
	case dest.found:
		d.Allowed = true
		d.AccessType = ClientToClient
		d.Destination = dest.id
		d.Trace = append(d.Trace, `"`+req.FQDN+`" is held by enrolled client session `+dest.quotedID+", which is available: Client to Client")
	case len(seg.s.ServerGroups) > 0:
		d.Allowed = true
		d.AccessType = ClientToServer
		d.Trace = append(d.Trace, `no enrolled client holds "`+req.FQDN+`"; `+seg.name+" has server groups: Client to Server through an App Connector")
	default:
		d.Code = code.C2CClientNotFound
		d.Trace = append(d.Trace, `no enrolled client of this organization holds "`+req.FQDN+`" (C2C_CLIENT_NOT_FOUND)`)
	}
}
