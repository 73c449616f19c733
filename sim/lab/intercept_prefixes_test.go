package lab

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/c2clab/c2clab/sim/policy"
)

func prefixes(ss ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range ss {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

// TestInterceptedPrefixes: the synthetic range always; a segment's IPs and
// CIDRs only where they overlap the c2c ranges, narrowed to the overlap,
// once each, not again inside the synthetic range, never IPv6; a range
// that would take the broker's address away is refused.
func TestInterceptedPrefixes(t *testing.T) {
	broker := []netip.Addr{netip.MustParseAddr("198.18.0.1")}
	tests := []struct {
		name           string
		c2c, segAddrs  []netip.Prefix
		want           []netip.Prefix
		wantErrContain string
	}{
		{name: "no c2c ranges", segAddrs: prefixes("10.9.0.0/16"), want: prefixes("100.64.0.0/16")},
		{name: "inside the synthetic range", c2c: prefixes("100.64.240.0/24"), segAddrs: prefixes("100.64.240.0/24"), want: prefixes("100.64.0.0/16")},
		{name: "segment narrower than the range", c2c: prefixes("10.77.0.0/16"), segAddrs: prefixes("10.77.1.5/32", "10.77.2.0/24", "10.77.2.0/24"),
			want: prefixes("100.64.0.0/16", "10.77.1.5/32", "10.77.2.0/24")},
		{name: "segment wider than the range", c2c: prefixes("10.77.4.0/24"), segAddrs: prefixes("10.0.0.0/8"), want: prefixes("100.64.0.0/16", "10.77.4.0/24")},
		{name: "segment outside the range", c2c: prefixes("10.77.4.0/24"), segAddrs: prefixes("10.78.0.0/16"), want: prefixes("100.64.0.0/16")},
		{name: "IPv6", c2c: prefixes("fd00::/64"), segAddrs: prefixes("fd00::/64"), want: prefixes("100.64.0.0/16")},
		{name: "covers the broker", c2c: prefixes("198.18.0.0/15"), segAddrs: prefixes("198.18.0.0/24"), wantErrContain: "covers 198.18.0.1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &policy.Config{C2CIPRanges: tc.c2c, Segments: []policy.Segment{{Name: "IPs", Addrs: tc.segAddrs}}}
			got, err := interceptedPrefixes(cfg, broker)
			if tc.wantErrContain != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErrContain) {
					t.Fatalf("interceptedPrefixes = %v, %v; want an error saying %q", got, err, tc.wantErrContain)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("interceptedPrefixes = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}
