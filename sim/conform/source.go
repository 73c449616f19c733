package conform

import (
	"fmt"

	"github.com/c2clab/c2clab/sim/code"
	"github.com/c2clab/c2clab/sim/policy"
	"github.com/c2clab/c2clab/sim/wire"
)

// Source is the source side of a conforming connector: it intercepts by
// the segment list of its last registration. The segment and port are
// chosen by a sim/policy engine holding only those segments, so the source
// drops exactly the connections the broker would refuse for their port
// (SEG-3, SEG-4), by the same code. A nil *Source is a connector that has
// no segment list yet: it intercepts nothing.
type Source struct {
	segs   []wire.Segment
	byID   map[string]int // segment ID -> index into segs
	engine *policy.Engine // segments only, no rules: SEG-3 and SEG-4
}

// NewSource is the source side for the segment list segs. A list the
// policy engine refuses (the broker never sends one) is an error; the
// caller then intercepts nothing.
func NewSource(segs []wire.Segment) (*Source, error) {
	e, err := policy.New(policy.Config{Segments: policySegments(segs)})
	if err != nil {
		return nil, fmt.Errorf("conform: segment list: %w", err)
	}
	s := &Source{segs: segs, byID: make(map[string]int, len(segs)), engine: e}
	for i, seg := range segs {
		s.byID[seg.ID] = i
	}
	return s, nil
}

// SourceOutcome is what the source side does with one connection.
type SourceOutcome struct {
	// Segment is the segment that covers the name; nil when none does.
	Segment *wire.Segment
	// Code is "" when the connection goes to the broker; otherwise the
	// source's own answer, and nothing reaches the broker.
	Code code.Code
	// Line says why, for a trace; "" when the connection goes on.
	Line string
}

// Intercept is the source side's decision for a local client's connection
// to fqdn:port over proto ("tcp" when empty, or "udp"), on a connector
// with Private Access on or off, on a device with attributes dev: DEV-5
// (off intercepts nothing), then policy.Engine.Route, the segment as the
// broker would choose it (not covered: not intercepted,
// BRK_MT_SETUP_FAIL_APP_NOT_FOUND; bypassed, SEG-8; a port outside it:
// dropped locally, CLT_PORT_NOT_IN_SEGMENT, SEG-4).
func (s *Source) Intercept(privateAccess bool, dev policy.DeviceAttrs, fqdn string, port uint16, proto string) SourceOutcome {
	if !privateAccess {
		return refuse(nil, code.CltPrivateAccessDisabled, fmt.Sprintf("Private Access is disabled on the source device: its agent does not intercept %q, so nothing reaches the broker", fqdn), "DEV-5")
	}
	if s == nil {
		return refuse(nil, code.BrkAppNotFound, "the source agent has no segment list yet: it intercepts nothing", "SEG-3")
	}
	r := s.engine.Route(fqdn, proto, port, dev)
	out := SourceOutcome{Code: r.Code, Line: r.Line}
	if r.Segment != nil {
		out.Segment = &s.segs[s.byID[r.Segment.ID]]
	}
	return out
}

// Segment is the most specific segment covering fqdn (SEG-3), enabled or
// not: the source side intercepts a disabled segment's names too and lets
// the broker refuse them (SEG-5). The Segment is shared and must not be
// modified.
func (s *Source) Segment(fqdn string) (*wire.Segment, bool) {
	if s == nil {
		return nil, false
	}
	ps, ok := s.engine.Segment(fqdn)
	if !ok {
		return nil, false
	}
	return &s.segs[s.byID[ps.ID]], true
}

// Covers reports whether some segment covers name: the source side's
// resolver answers exactly those names.
func (s *Source) Covers(name string) bool {
	_, ok := s.Segment(name)
	return ok
}

// refuse is the outcome of a connection the source answers itself with c,
// its trace line written from c.
func refuse(seg *wire.Segment, c code.Code, why string, reqs ...string) SourceOutcome {
	return SourceOutcome{Segment: seg, Code: c, Line: c.Sentence(why, reqs...)}
}
