package policy

import (
	"strconv"

	"github.com/c2clab/c2clab/sim/code"
	"github.com/c2clab/c2clab/sim/domain"
)

// Segment match styles (SEG-6) and bypass types (SEG-8), as the ZPA API
// spells matchStyle and bypassType.
const (
	MatchExclusive = "EXCLUSIVE"
	MatchInclusive = "INCLUSIVE"
	BypassNever    = "NEVER"
	BypassAlways   = "ALWAYS"
	BypassOnNet    = "ON_NET"
)

// maxMatches bounds the Multimatch candidates looked at without allocating.
const maxMatches = 8

// route is SEG-3 and SEG-6: the segment a request for name goes to. An
// EXCLUSIVE (default) most specific segment is it, whatever its ports. An
// INCLUSIVE one brings in every INCLUSIVE segment covering the name
// (ZPA's Multimatch): the most specific of them whose ports include the
// request is chosen, so a wildcard segment can carry a port the more
// specific one lacks; if none does, the most specific, for SEG-4 to refuse.
// EXCLUSIVE segments never take part in a Multimatch. multi says whether a
// less specific segment was chosen.
func (e *Engine) route(name, proto string, port uint16) (si int, pat domain.Pattern, multi, ok bool) {
	si, pat, ok = e.index.Lookup(name)
	if !ok || !e.segs[si].inclusive || e.segs[si].s.Allows(proto, port) {
		return si, pat, false, ok
	}
	var buf [maxMatches]domain.Match[int]
	for _, m := range e.index.All(buf[:0], name) {
		if s := &e.segs[m.Value]; s.inclusive && s.s.Allows(proto, port) {
			return m.Value, m.Pattern, true, true
		}
	}
	return si, pat, false, true
}

// segmentLine is the trace line for the chosen segment.
func (seg *segment) segmentLine(fqdn string, pat domain.Pattern, multi bool, proto string, port uint16) string {
	if !multi {
		return `"` + fqdn + `" is in ` + seg.name + " by its domain " + pat.String() + ", the most specific match"
	}
	return `"` + fqdn + `" is in ` + seg.name + " by its domain " + pat.String() +
		": Multimatch (matchStyle INCLUSIVE) takes the most specific inclusive segment that includes " +
		proto + " port " + strconv.Itoa(int(port)) + " (SEG-6)"
}

// bypassStep is SEG-8: ZPA never carries a segment with bypassType ALWAYS,
// nor one with ON_NET while the source is on a trusted network; a
// conforming Client Connector sends such a connection direct, outside
// Private Access, so there is no client-to-client through it. ON_NET with
// the source's trusted networks unknown is undecided. It reports whether
// the request may go on.
func bypassStep(d *Decision, seg *segment, dev *DeviceAttrs) bool {
	switch seg.bypass {
	case BypassAlways:
		d.refuse(code.CltSegmentBypassed, seg.name+" has bypassType ALWAYS: ZPA never carries it, the source's Client Connector sends the connection direct", "SEG-8")
		return false
	case BypassOnNet:
		tn := dev.TrustedNetworks
		switch {
		case !tn.Known:
			setUndecided(d, nil, "bypassType ON_NET", kindInfos[kindTrustedNetwork].attr)
			d.Trace = append(d.Trace, code.BrkPolicyUndecided.Sentence(seg.name+" has bypassType ON_NET, which bypasses it when the source is on a trusted network, and the question does not say whether it is", "SEG-8"))
			return false
		case len(tn.Values) > 0:
			d.refuse(code.CltSegmentBypassed, seg.name+" has bypassType ON_NET and the source is on the trusted network "+quote(tn.Values[0])+": the Client Connector sends the connection direct", "SEG-8")
			return false
		}
		d.Trace = append(d.Trace, seg.name+" has bypassType ON_NET and the source is on no trusted network, so ZPA carries it")
	}
	return true
}

// SourceRoute is what a conforming source agent does with a connection
// before the broker (SEG-3, SEG-4, SEG-6, SEG-8): the segment it goes to
// and, when Code is set, why it stops at the source: not covered
// (BRK_MT_SETUP_FAIL_APP_NOT_FOUND, not intercepted), bypassed
// (CLT_SEGMENT_BYPASSED) or the port is not in the segment
// (CLT_PORT_NOT_IN_SEGMENT). A source that does not know whether it is on
// a trusted network sends an ON_NET segment's connection on, for the
// broker to answer.
type SourceRoute struct {
	Segment *Segment // nil when no segment covers the name
	Code    code.Code
	Line    string
}

// Route is the source side's choice for fqdn:port over proto ("tcp" when
// empty) from a device with attributes dev, made with the same functions
// Decide uses, so the source and the broker agree.
func (e *Engine) Route(fqdn, proto string, port uint16, dev DeviceAttrs) SourceRoute {
	if proto == "" {
		proto = "tcp"
	}
	var si int
	var ok bool
	if a, isIP := parseIP(fqdn); isIP {
		si, _, ok = e.addrSegment(a) // SEG-9
	} else {
		si, _, _, ok = e.route(domain.Normalize(fqdn), proto, port)
	}
	if !ok {
		return SourceRoute{Code: code.BrkAppNotFound, Line: "no segment covers " + quote(fqdn) + ": not intercepted"}
	}
	seg := &e.segs[si]
	r := SourceRoute{Segment: seg.s}
	var d Decision
	if !dev.TrustedNetworks.Known && seg.bypass == BypassOnNet {
		return r // the broker decides: undecided
	}
	if !bypassStep(&d, seg, &dev) {
		r.Code, r.Line = d.Code, d.Trace[len(d.Trace)-1]
		return r
	}
	if !seg.s.Allows(proto, port) {
		r.Code = code.CltPortNotInSegment
		r.Line = r.Code.Sentence(proto+" port "+strconv.Itoa(int(port))+" is not in "+seg.name+": a conforming source drops it locally", "SEG-4")
	}
	return r
}
