package tenant

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/c2clab/c2clab/sim/domain"
	"github.com/c2clab/c2clab/sim/policy"
)

// segRef is one segment of the file with the field path it came from
// (applicationSegments[i] or application.list[i]).
type segRef struct {
	field string
	seg   *fileSegment
}

func (l *loader) segments() []policy.Segment {
	var refs []segRef
	for i := range l.f.ApplicationSegments {
		refs = append(refs, segRef{fmt.Sprintf("applicationSegments[%d]", i), &l.f.ApplicationSegments[i]})
	}
	refs = append(refs, l.pastedSegRefs()...)
	l.segIDs = map[string]bool{}
	l.segGroups = groupIDs(l.segGroupList)
	l.srvGroups = groupIDs(l.srvGroupList)
	listedSegGroups, listedSrvGroups := len(l.segGroupList) > 0, len(l.srvGroupList) > 0
	names := map[string]string{}
	var out []policy.Segment
	for _, r := range refs {
		s, domainIdx, ok := l.segment(r, listedSegGroups, listedSrvGroups)
		if s.ID == "" {
			continue
		}
		if l.segIDs[s.ID] {
			l.errorf(r.field+".id", "segment id %q is used twice; ids must be unique", s.ID)
			continue
		}
		if prev, dup := names[s.Name]; dup {
			l.errorf(r.field+".name", "segment name %q is already used by %s; names must be unique", s.Name, prev)
			continue
		}
		l.segIDs[s.ID], names[s.Name] = true, r.field
		if ok && len(s.Domains)+len(s.Addrs) > 0 {
			out = append(out, s)
			l.segFields = append(l.segFields, r.field)
			l.segDomains = append(l.segDomains, domainIdx)
		}
	}
	l.warnAddrsWithoutRanges(out)
	return out
}

// warnAddrsWithoutRanges is SEG-9: an IP or CIDR of a client-to-client
// segment reaches a device only through the client IP it is given from
// c2cIpRanges.
func (l *loader) warnAddrsWithoutRanges(segs []policy.Segment) {
	if len(l.f.C2CIPRanges) > 0 {
		return
	}
	for i, s := range segs {
		if len(s.Addrs) > 0 && len(s.ServerGroups) == 0 {
			l.warnf(l.segFields[i]+".domainNames", "segment %q has IP or CIDR domains but the tenant has no c2cIpRanges: no device gets a client IP, so they reach no device client-to-client (SEG-9)", s.Name)
		}
	}
}

// groupIDs is the set of the groups' ids (groups() defaulted each to its
// name where it had none).
func groupIDs(gs []Group) map[string]bool {
	m := map[string]bool{}
	for _, g := range gs {
		m[g.ID] = true
	}
	return m
}

// segment converts one segment. When the file lists segment (server)
// groups, a segment must refer to a listed one; when it lists none (a ZPA
// export has only segmentGroupId on each segment), references define them.
// domainIdx is the file index of each of the segment's domains.
func (l *loader) segment(r segRef, listedSegGroups, listedSrvGroups bool) (s policy.Segment, domainIdx []int, ok bool) {
	fs := r.seg
	s = policy.Segment{ID: strings.TrimSpace(fs.ID), Name: strings.TrimSpace(fs.Name), Enabled: true}
	if s.Name == "" {
		s.Name = s.ID
	}
	if s.ID == "" {
		s.ID = s.Name
	}
	if s.ID == "" {
		l.errorf(r.field+".name", "missing; want a segment name (and optionally an id)")
		return s, nil, false
	}
	nerr := len(l.errs)
	if fs.Enabled != nil {
		switch strings.ToLower(strings.TrimSpace(*fs.Enabled)) {
		case "true":
		case "false":
			s.Enabled = false
		default:
			l.errorf(r.field+".enabled", "is %q, want true or false (absent means true)", *fs.Enabled)
		}
	}
	s.Domains, domainIdx, s.Addrs = l.segmentDomains(r)
	s.MatchStyle = l.oneOf(r.field+".matchStyle", fs.MatchStyle, "EXCLUSIVE (default) or INCLUSIVE (Multimatch, SEG-6)", policy.MatchExclusive, policy.MatchInclusive)
	s.BypassType = l.oneOf(r.field+".bypassType", fs.BypassType, "NEVER (default), ALWAYS or ON_NET (SEG-8)", policy.BypassNever, policy.BypassAlways, policy.BypassOnNet)
	s.TCP = l.portRanges(r.field, "tcp", fs.TCPPortRange, fs.TCPPortRanges)
	s.UDP = l.portRanges(r.field, "udp", fs.UDPPortRange, fs.UDPPortRanges)
	if len(s.TCP) == 0 && len(s.UDP) == 0 && len(l.errs) == nerr {
		l.warnf(r.field, "segment %q has no TCP or UDP ports: a conforming agent drops every connection to it (SEG-4)", s.Name)
	}
	s.GroupID = strings.TrimSpace(fs.SegmentGroupID)
	if s.GroupID != "" {
		if listedSegGroups && !l.segGroups[s.GroupID] {
			l.errorf(r.field+".segmentGroupId", "segment group %q is not in segmentGroups", s.GroupID)
		}
		l.segGroups[s.GroupID] = true
	}
	for i, g := range fs.ServerGroups {
		id := strings.TrimSpace(g.ID)
		field := fmt.Sprintf("%s.serverGroups[%d].id", r.field, i)
		switch {
		case id == "":
			l.errorf(field, "missing; want the server group's id")
		case listedSrvGroups && !l.srvGroups[id]:
			l.errorf(field, "server group %q is not in serverGroups", id)
		default:
			s.ServerGroups = append(s.ServerGroups, id)
		}
	}
	return s, domainIdx, len(l.errs) == nerr
}

// segmentDomains checks that each of domainNames is an FQDN, a wildcard
// or a pattern domain, and returns them with their indexes in the file,
// and the IP addresses and CIDRs apart (SEG-9: they cover the client IPs
// of c2cIpRanges). A domain in two segments and SEG-1 (a name the hostname
// regex cannot match) are the policy engine's to find (see
// engineAccepts), so that the file and the broker agree.
func (l *loader) segmentDomains(r segRef) (out []string, idx []int, addrs []netip.Prefix) {
	if len(r.seg.DomainNames) == 0 {
		l.errorf(r.field+".domainNames", "missing; want at least one FQDN or wildcard domain such as *.example.com")
		return nil, nil, nil
	}
	for i, d := range r.seg.DomainNames {
		field := fmt.Sprintf("%s.domainNames[%d]", r.field, i)
		if p, ok := ipOrCIDR(d); ok {
			addrs = append(addrs, p)
			continue
		}
		if _, err := domain.Parse(d); err != nil {
			// The sentinel's text adds nothing for a person reading the file.
			l.fail(field, strings.TrimSuffix(err.Error(), ": "+domain.ErrInvalid.Error()), err)
			continue
		}
		out = append(out, d)
		idx = append(idx, i)
	}
	return out, idx, addrs
}

// oneOf returns v upper-cased if it is one of the values ("" stays ""),
// else records an error saying what is accepted.
func (l *loader) oneOf(field, v, want string, values ...string) string {
	u := strings.ToUpper(strings.TrimSpace(v))
	if u == "" || slices.Contains(values, u) {
		return u
	}
	l.errorf(field, "is %q, want %s", v, want)
	return ""
}

// ipOrCIDR reads an IP address (as a single-address prefix) or a CIDR.
func ipOrCIDR(s string) (netip.Prefix, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(a, a.BitLen()), true
	}
	p, err := netip.ParsePrefix(s)
	return p.Masked(), err == nil
}

// portRanges merges the structured form (tcpPortRange: [{from, to}]) and
// ZPA's older flat form (tcpPortRanges: [from, to, from, to, ...]). The ZPA
// API returns both forms for the same ranges, so repeats are dropped.
func (l *loader) portRanges(field, proto string, ranges []filePortRange, flat []string) []policy.PortRange {
	out := l.structuredRanges(field, proto, ranges)
	for _, r := range l.flatRanges(field, proto, flat) {
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

func (l *loader) structuredRanges(field, proto string, ranges []filePortRange) []policy.PortRange {
	var out []policy.PortRange
	for i, pr := range ranges {
		f := fmt.Sprintf("%s.%sPortRange[%d]", field, proto, i)
		from, ok1 := l.port(f+".from", pr.From, "")
		to, ok2 := l.port(f+".to", pr.To, pr.From)
		if ok1 && ok2 && l.ordered(f, from, to) && !slices.Contains(out, policy.PortRange{From: from, To: to}) {
			out = append(out, policy.PortRange{From: from, To: to})
		}
	}
	return out
}

func (l *loader) flatRanges(field, proto string, flat []string) []policy.PortRange {
	var out []policy.PortRange
	if len(flat)%2 != 0 {
		l.errorf(fmt.Sprintf("%s.%sPortRanges", field, proto), "has %d entries; want pairs of from, to such as [\"3389\", \"3389\"]", len(flat))
		return out
	}
	for i := 0; i+1 < len(flat); i += 2 {
		f := fmt.Sprintf("%s.%sPortRanges", field, proto)
		from, ok1 := l.port(fmt.Sprintf("%s[%d]", f, i), flat[i], "")
		to, ok2 := l.port(fmt.Sprintf("%s[%d]", f, i+1), flat[i+1], "")
		if ok1 && ok2 && l.ordered(fmt.Sprintf("%s[%d]", f, i), from, to) {
			out = append(out, policy.PortRange{From: from, To: to})
		}
	}
	return out
}

// port parses a port written as a number or a string; an empty value takes
// def (so a range's "to" defaults to its "from").
func (l *loader) port(field, s, def string) (uint16, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		s = def
	}
	if s == "" {
		l.errorf(field, "missing; want a port 1-65535")
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		l.errorf(field, "is %q, want a port 1-65535", s)
		return 0, false
	}
	return uint16(n), true
}

func (l *loader) ordered(field string, from, to uint16) bool {
	if from > to {
		l.errorf(field, "from %d is greater than to %d", from, to)
		return false
	}
	return true
}
