package policy

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/c2clab/c2clab/sim/code"
	"github.com/c2clab/c2clab/sim/domain"
)

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
	d := e.decide(&req)
	switch {
	case d.Verdict != "":
	case d.Allowed:
		d.Verdict = VerdictAllowed
	default:
		d.Verdict = VerdictDenied
	}
	return d
}

func (e *Engine) decide(req *Request) Decision {
	d := Decision{Trace: make([]string, 0, 8)}
	// Normalized once, here: the session map needs the normalized name, and
	// with it Lookup's own Normalize is a scan that allocates nothing
	// (about 20 ns; domain.Index has no lookup that skips it).
	proto := req.Proto
	if proto == "" {
		proto = "tcp"
	}
	if a, ok := parseIP(req.FQDN); ok {
		return e.decideAddr(req, a, proto)
	}
	name := domain.Normalize(req.FQDN)
	dest := e.holder(name)
	si, pat, multi, ok := e.route(name, proto, req.Port)
	if !ok {
		if dest.found {
			d.AccessType = ClientToClient
		}
		d.refuse(code.BrkAppNotFound, "no application segment covers "+quote(req.FQDN))
		return d
	}
	// The index accepted req.FQDN, so it has no characters to escape.
	e.inSegment(&d, si, dest, req, e.segs[si].segmentLine(req.FQDN, pat, multi, proto, req.Port))
	return d
}

// inSegment decides a request once its segment si is chosen, by name or by
// address (line says which): bypass, enabled, port, rules, destination.
func (e *Engine) inSegment(d *Decision, si int, dest destination, req *Request, line string) {
	seg := &e.segs[si]
	d.Segment, d.AccessType = seg.s, ClientToClient
	if !dest.found && len(seg.s.ServerGroups) > 0 {
		d.AccessType = ClientToServer
	}
	d.Trace = append(d.Trace, line)
	if !bypassStep(d, seg, &req.Device) {
		return
	}
	d.Trace = append(d.Trace, seg.enabledLine)
	if !seg.s.Enabled {
		d.Code = code.BrkNoPolicyFound
		return
	}
	if e.portStep(d, seg, req) && e.ruleStep(d, si, req) {
		destinationStep(d, seg, dest, req)
	}
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
		d.refuse(code.BrkPortNotInSegment, "protocol "+quote(proto)+" is neither tcp nor udp, so no segment port range can include it")
		return false
	case !seg.s.Allows(proto, req.Port):
		d.refuse(code.BrkPortNotInSegment, proto+" port "+string(port)+" is not in "+seg.name+" ("+seg.ports+")")
		return false
	}
	d.Trace = append(d.Trace, proto+" port "+string(port)+" is in "+seg.name+" ("+seg.ports+")")
	return true
}

// ruleStep is POL-1..POL-5: the first rule that matches decides; a rule
// that may match, depending on an attribute the request does not describe,
// makes the answer undecided (POL-4); POL-2 decides when none matches. It
// reports whether the request may go on.
func (e *Engine) ruleStep(d *Decision, si int, req *Request) bool {
	var buf [64]byte
	seg := &e.segs[si]
	q := e.resolve(seg, req, buf[:])
	c := e.candidates(si, &q)
	if req.TraceMisses {
		c = e.everyCandidate(si)
	}
	for rank, ok := c.next(); ok; rank, ok = c.next() {
		r := &e.rules[rank]
		switch v, why := r.match(&q); v {
		case yes:
			d.Rule = r.r
			// What made it match first: a refusal's own line, naming its
			// code, stays last (code.Sentence).
			d.Trace = append(r.appendBecause(d.Trace, &q), r.matchLine)
			switch r.action {
			case Deny:
				d.Code = code.BrkRejectedByPolicy
				return false
			case RequireApproval:
				return e.approvalStep(d, seg, req)
			}
			return true
		case no:
			if req.TraceMisses {
				d.Trace = r.appendMisses(d.Trace, &q)
			}
		case maybe:
			d.Rule = r.r
			g := why.group
			setUndecided(d, r.r, strings.Join(g.types, ", "), kindInfos[g.kind].attr)
			d.Trace = append(d.Trace, d.Code.Sentence(r.name+" may match: its "+r.condLabel(why.cond)+" ("+
				strings.Join(g.types, ", ")+": "+g.unknownOperands(&q)+") needs "+kindInfos[g.kind].attr+", which the question does not describe; "+
				"no earlier rule decided, so the lab cannot say what ZPA decides"))
			return false
		}
	}
	return e.noRuleMatched(d, seg)
}

// setUndecided makes d undecided (POL-4).
func setUndecided(d *Decision, r *Rule, objectType, attr string) {
	d.Verdict = VerdictUndecided
	d.Code = code.BrkPolicyUndecided
	d.Undecided = &Undecided{Rule: r, ObjectType: objectType, Attribute: attr}
	if objectType == string(RequireApproval) {
		d.Trace = append(d.Trace, d.Code.Sentence("the request has no time, so the lab cannot tell whether an approval is in force"))
	}
}

// resolve turns a request into symbols. Values no rule mentions become
// noSym or are dropped, as they cannot match anything; buf is scratch
// space for keys.
func (e *Engine) resolve(seg *segment, req *Request, buf []byte) request {
	ct := req.ClientType
	if ct == "" {
		ct = DefaultClientType
	}
	q := request{
		segID:           seg.id,
		segGroup:        seg.group,
		user:            e.syms.lookup(req.User),
		platform:        e.lookupKey(buf, kindPlatform, string(req.Platform)),
		clientType:      e.lookupKey(buf, kindClientType, ct),
		clientConnector: isClientConnector(strings.ToLower(ct)),
	}
	if u := e.users[req.User]; u != nil {
		q.ident = u
	}
	q.dev[kindPosture-kindPosture] = e.deviceSyms(buf, kindPosture, req.Device.Posture)
	q.dev[kindTrustedNetwork-kindPosture] = e.deviceSyms(buf, kindTrustedNetwork, req.Device.TrustedNetworks)
	q.dev[kindCountry-kindPosture] = e.deviceSyms(buf, kindCountry, req.Device.Country)
	q.dev[kindMachineGroup-kindPosture] = e.deviceSyms(buf, kindMachineGroup, req.Device.MachineGroup)
	return q
}

func (e *Engine) noRuleMatched(d *Decision, seg *segment) bool {
	var why string
	switch {
	case len(seg.s.ServerGroups) > 0:
		why = "no access rule matched; " + seg.name + " has server groups, and client-to-server access needs an ALLOW rule"
	case e.cfg.ImplicitBlock:
		why = "no access rule matched; the tenant applies ZPA's implicit block to client-to-client too"
	case seg.covered:
		why = "no access rule matched; access rules apply to " + seg.name + ", so client-to-client is no longer open to every user and the implicit block applies"
	default:
		d.Trace = append(d.Trace, "no access rule matched; client-to-client default allows any user of the organization (no access rule applies to "+seg.name+")")
		return true
	}
	d.refuse(code.BrkNoPolicyFound, why)
	return false
}

// destinationStep finds who serves the FQDN: an enrolled client (Client to
// Client), else the segment's server groups (Client to Server).
func destinationStep(d *Decision, seg *segment, dest destination, req *Request) {
	switch {
	case dest.found && !dest.available:
		d.refuse(dest.code, `"`+req.FQDN+`" is held by enrolled client session `+dest.quotedID+", which is not available for client-to-client")
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
		d.refuse(code.C2CClientNotFound, `no enrolled client of this organization holds "`+req.FQDN+`"`)
	}
}

// decideAddr is Decide for a destination IP address (SEG-9): the segment
// whose IP or CIDR covers it, then the same steps, the destination being
// the enrolled device holding the address as its client IP.
func (e *Engine) decideAddr(req *Request, a netip.Addr, proto string) Decision {
	d := Decision{Trace: make([]string, 0, 6)}
	dest := e.ipHolder(a)
	si, p, ok := e.addrSegment(a)
	if !ok {
		d.refuse(code.BrkAppNotFound, "no application segment covers the address "+a.String())
		return d
	}
	e.inSegment(&d, si, dest, req, a.String()+" is in "+e.segs[si].name+" by its address range "+p.String()+" (SEG-9)")
	return d
}

// refuse ends d with c, its trace sentence written from c (code.Sentence),
// so the code in the words is always the code assigned.
func (d *Decision) refuse(c code.Code, why string, reqs ...string) {
	d.Code = c
	d.Trace = append(d.Trace, c.Sentence(why, reqs...))
}
