package lab

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/c2clab/c2clab/sim/agent"
	"github.com/c2clab/c2clab/sim/policy"
)

// ErrInterceptNeedsNetns is returned for DeviceOptions.Intercept on a
// backend other than netns: interception changes the machine's resolver
// and firewall, which only a namespace of the lab's own lets it do.
var ErrInterceptNeedsNetns = errors.New("lab: DNS interception needs the netns backend")

// interceptDNSPort is where the agent's DNS listens: stub resolvers know no
// other port.
const interceptDNSPort = "53"

// checkIntercept refuses interception where the backend cannot give it.
func (l *Lab) checkIntercept(opts DeviceOptions) error {
	if !opts.Intercept {
		return nil
	}
	return l.spec.Backend.Supports(FeatureIntercept)
}

// interceptedPrefixes is what a machine with interception sends to its
// agent: the synthetic range, then every IPv4 address range through which
// a segment can reach a device's client IP (SEG-9), the overlap of a
// segment's IP or CIDR domainNames with the tenant's c2cIpRanges. An
// address outside the c2c ranges is held by no device, so ZPA would carry
// it through an App Connector, not client to client; the lab leaves it
// alone. IPv6 is not intercepted: SO_ORIGINAL_DST as the agent reads it
// is IPv4 only. keep holds the addresses the machine must still reach
// directly (the broker, its own); a range covering one is an error, since
// redirecting it would cut the agent off.
func interceptedPrefixes(cfg *policy.Config, keep []netip.Addr) ([]netip.Prefix, error) {
	out := []netip.Prefix{agent.SyntheticRange}
	seen := map[netip.Prefix]bool{agent.SyntheticRange: true}
	for _, s := range cfg.Segments {
		for _, a := range s.Addrs {
			for _, r := range cfg.C2CIPRanges {
				p, ok := overlap(a.Masked(), r.Masked())
				if !ok || !p.Addr().Is4() || seen[p] || agent.SyntheticRange.Contains(p.Addr()) && agent.SyntheticRange.Bits() <= p.Bits() {
					continue
				}
				for _, k := range keep {
					if p.Contains(k) {
						return nil, fmt.Errorf("lab: intercept: segment %q: %s (in c2cIpRanges %s) covers %s, which the machine must reach directly; choose a client IP range apart from the lab network", s.Name, a, r, k)
					}
				}
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out, nil
}

// overlap is the addresses two prefixes share: the longer one, when one
// contains the other (prefixes never overlap in part).
func overlap(a, b netip.Prefix) (netip.Prefix, bool) {
	if !a.Overlaps(b) {
		return netip.Prefix{}, false
	}
	if a.Bits() >= b.Bits() {
		return a, true
	}
	return b, true
}

// policy is the policy of the device's tenant.
func (d *Device) policy() *policy.Config {
	for i := range d.lab.spec.Tenants {
		if t := &d.lab.spec.Tenants[i]; t.ID == d.Tenant {
			return &t.Policy
		}
	}
	return &policy.Config{}
}

// mustReach is what interception must not redirect: the broker's
// addresses and the device's own.
func (d *Device) mustReach() []netip.Addr {
	keep := []netip.Addr{d.InterfaceIP}
	b := d.lab.brokerAddrs()
	for _, s := range []string{b.Control, b.Data} {
		if ap, err := netip.ParseAddrPort(s); err == nil {
			keep = append(keep, ap.Addr())
		}
	}
	return keep
}
