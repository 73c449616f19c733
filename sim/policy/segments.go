package policy

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/c2clab/c2clab/sim/code"
	"github.com/c2clab/c2clab/sim/domain"
)

// segment is a Segment with what Decide needs precomputed.
type segment struct {
	s           *Segment // &Engine.cfg.Segments[i]
	id, group   sym      // ID and GroupID as APP and APP_GROUP operands see them
	name        string   // `segment "Name" (id X)`, for traces
	ports       string   // "tcp 3389, 445; udp none", for traces
	enabledLine string   // trace line for SEG-5
	// covered: some access rule can apply to this segment, so POL-2's
	// default allow does not (set by indexRules).
	covered bool
	// inclusive: matchStyle INCLUSIVE (SEG-6).
	inclusive bool
	// bypass is bypassType, upper-cased once (SEG-8).
	bypass string
}

// Allows reports whether the segment includes port for proto ("tcp", the
// default when empty, or "udp") (SEG-4).
func (s *Segment) Allows(proto string, port uint16) bool {
	var ranges []PortRange
	switch proto {
	case "", "tcp":
		ranges = s.TCP
	case "udp":
		ranges = s.UDP
	default:
		return false
	}
	for _, r := range ranges {
		if port >= r.From && port <= r.To {
			return true
		}
	}
	return false
}

// compileSegments checks the segments and builds the domain index (SEG-3).
// It is the one place that finds duplicate domains: the same domain in two
// segments is an error, because SEG-3 could not choose; one listed twice in
// a segment is harmless and indexed once (lintSegments warns). The other segment is
// named by name and ID, which a tenant file shows as written, not by its
// index in Config.Segments, which need not be its place in the file.
func (e *Engine) compileSegments() []error {
	var errs []error
	bad := func(i int, field, msg string, err error) {
		errs = append(errs, &ConfigError{Segment: i, Rule: -1, Field: field, Msg: msg, Err: err})
	}
	e.segs = make([]segment, len(e.cfg.Segments))
	ids := make(map[string]int, len(e.cfg.Segments))
	for i := range e.cfg.Segments {
		s := &e.cfg.Segments[i]
		e.segs[i] = newSegment(s)
		e.segs[i].id, e.segs[i].group = e.syms.intern(s.ID), e.syms.intern(s.GroupID)
		if s.ID == "" {
			bad(i, "id", fmt.Sprintf("segment %q has no id; APP operands and logs refer to segments by id", s.Name), nil)
		} else if j, dup := ids[s.ID]; dup {
			bad(i, "id", fmt.Sprintf("%q is also the id of applicationSegments[%d]", s.ID, j), nil)
		} else {
			ids[s.ID] = i
		}
		for k, d := range s.Domains {
			p, err := domain.Parse(d)
			if err != nil {
				bad(i, fmt.Sprintf("domainNames[%d]", k), err.Error(), err)
				continue
			}
			if err := e.index.Add(p, i); errors.Is(err, domain.ErrDuplicate) {
				if j, _ := e.index.Get(p); j != i {
					o := &e.cfg.Segments[j]
					bad(i, fmt.Sprintf("domainNames[%d]", k), fmt.Sprintf("%q is also a domain of segment %q (id %s); a domain belongs to one segment (SEG-3 picks the segment by domain alone)", d, o.Name, o.ID), err)
				}
			}
		}
		switch strings.ToUpper(s.MatchStyle) {
		case "", MatchExclusive:
		case MatchInclusive:
			e.segs[i].inclusive = true
		default:
			bad(i, "matchStyle", fmt.Sprintf("is %q, want EXCLUSIVE (default) or INCLUSIVE", s.MatchStyle), nil)
		}
		switch e.segs[i].bypass = strings.ToUpper(s.BypassType); e.segs[i].bypass {
		case "", BypassNever, BypassAlways, BypassOnNet:
		default:
			bad(i, "bypassType", fmt.Sprintf("is %q, want NEVER (default), ALWAYS or ON_NET", s.BypassType), nil)
		}
		errs = append(errs, checkRanges(i, "tcpPortRange", s.TCP)...)
		errs = append(errs, checkRanges(i, "udpPortRange", s.UDP)...)
	}
	return errs
}

func checkRanges(seg int, field string, rs []PortRange) []error {
	var errs []error
	for k, r := range rs {
		if r.From > r.To {
			errs = append(errs, &ConfigError{Segment: seg, Rule: -1, Field: fmt.Sprintf("%s[%d]", field, k),
				Msg: fmt.Sprintf("from %d is above to %d; want from <= to", r.From, r.To)})
		}
	}
	return errs
}

func newSegment(s *Segment) segment {
	name := "segment " + quote(s.Name) + " (id " + s.ID + ")"
	line := name + " is enabled"
	if !s.Enabled {
		line = code.BrkNoPolicyFound.Sentence(name + " is disabled, which blocks access")
	}
	return segment{
		s:           s,
		name:        name,
		ports:       "tcp " + rangesString(s.TCP) + "; udp " + rangesString(s.UDP),
		enabledLine: line,
	}
}

func rangesString(rs []PortRange) string {
	if len(rs) == 0 {
		return "none"
	}
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = strconv.Itoa(int(r.From))
		if r.To != r.From {
			parts[i] += "-" + strconv.Itoa(int(r.To))
		}
	}
	return strings.Join(parts, ", ")
}
