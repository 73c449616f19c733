package policy

import (
	"net/netip"
	"strings"
)

// Client IP assignment (SEG-9): with the tenant's client-to-client IP
// ranges (c2cIpRanges) every enrolled, available device holds one address
// from them, the lowest free one, while its session lasts; a segment
// whose domainNames include an IP or CIDR covering that address carries
// connections to it, Client to Client, to that device.

// assignIP gives s the lowest free address of the ranges, skipping each
// IPv4 range's network and broadcast addresses. Call with mu held.
func (e *Engine) assignIP(s *session) {
	if !s.Available || len(e.cfg.C2CIPRanges) == 0 {
		return
	}
	for _, p := range e.cfg.C2CIPRanges {
		a := p.Masked().Addr()
		if p.Addr().Is4() && p.Bits() < 31 {
			a = a.Next() // the network address
		}
		for ; a.IsValid() && p.Contains(a); a = a.Next() {
			if p.Addr().Is4() && p.Bits() < 31 && !p.Contains(a.Next()) {
				break // the broadcast address
			}
			if _, taken := e.byIP[a]; !taken {
				s.ClientIP = a
				e.byIP[a] = s
				return
			}
		}
	}
}

// releaseIP frees s's address. Call with mu held.
func (e *Engine) releaseIP(s *session) {
	if s.ClientIP.IsValid() && e.byIP[s.ClientIP] == s {
		delete(e.byIP, s.ClientIP)
	}
}

// ipHolder is holder for an address.
func (e *Engine) ipHolder(a netip.Addr) destination {
	e.mu.RLock()
	defer e.mu.RUnlock()
	s, ok := e.byIP[a]
	if !ok {
		return destination{}
	}
	return destination{found: true, id: s.ID, quotedID: s.quotedID, available: s.Available, code: s.Code}
}

// addrSegment is SEG-9's choice of segment for an address: the segment
// with the longest IP or CIDR entry containing it.
func (e *Engine) addrSegment(a netip.Addr) (si int, p netip.Prefix, ok bool) {
	best := -1
	for i := range e.segs {
		for _, q := range e.segs[i].s.Addrs {
			if q.Contains(a) && q.Bits() > best {
				si, p, ok, best = i, q, true, q.Bits()
			}
		}
	}
	return si, p, ok
}

// checkAddrs finds an IP or CIDR listed in two segments: SEG-3 could not
// choose between them.
func (e *Engine) checkAddrs() []error {
	var errs []error
	seen := map[netip.Prefix]int{}
	for i := range e.cfg.Segments {
		for _, p := range e.cfg.Segments[i].Addrs {
			p = p.Masked()
			if j, dup := seen[p]; dup && j != i {
				o := &e.cfg.Segments[j]
				errs = append(errs, &ConfigError{Segment: i, Rule: -1, Field: "domainNames",
					Msg: quote(p.String()) + " is also in segment " + quote(o.Name) + " (id " + o.ID + "); an address belongs to one segment"})
			}
			seen[p] = i
		}
	}
	return errs
}

// parseIP reads a destination that is an IP address; names are told apart
// first without allocating (ParseAddr's error does).
func parseIP(s string) (netip.Addr, bool) {
	ip := strings.Contains(s, ":")
	if !ip {
		ip = len(s) > 0
		for i := 0; i < len(s) && ip; i++ {
			ip = s[i] == '.' || s[i] >= '0' && s[i] <= '9'
		}
	}
	if !ip {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(s)
	return a, err == nil
}

// DomainNames is s's domainNames as ZPA's API lists them: the names, then
// the addresses and CIDRs (SEG-9), so that the segment list the broker
// sends the source side carries both.
func (s *Segment) DomainNames() []string {
	out := append([]string{}, s.Domains...)
	for _, p := range s.Addrs {
		if p.IsSingleIP() {
			out = append(out, p.Addr().String())
		} else {
			out = append(out, p.String())
		}
	}
	return out
}

// SplitDomainNames is DomainNames' inverse: IP addresses (as single-address
// prefixes) and CIDRs apart from the names.
func SplitDomainNames(names []string) (domains []string, addrs []netip.Prefix) {
	for _, n := range names {
		if a, err := netip.ParseAddr(n); err == nil {
			addrs = append(addrs, netip.PrefixFrom(a, a.BitLen()))
		} else if p, err := netip.ParsePrefix(n); err == nil {
			addrs = append(addrs, p.Masked())
		} else {
			domains = append(domains, n)
		}
	}
	return domains, addrs
}
