package agent

import (
	"errors"
	"net/netip"
	"testing"
)

func TestSynthPoolStableBothWays(t *testing.T) {
	p := newSynthPool(SyntheticRange, 0)
	if p.size != 65534 {
		t.Fatalf("pool of %s holds %d addresses, want 65534 (no network, no broadcast address)", SyntheticRange, p.size)
	}
	a1, err1 := p.addr("a.example.com")
	b, err2 := p.addr("b.example.com")
	a2, err3 := p.addr("a.example.com")
	if err := errors.Join(err1, err2, err3); err != nil {
		t.Fatal(err)
	}
	if a1 != netip.MustParseAddr("100.64.0.1") || b != netip.MustParseAddr("100.64.0.2") {
		t.Errorf("addresses %s, %s; want 100.64.0.1, 100.64.0.2", a1, b)
	}
	if a2 != a1 {
		t.Errorf("a.example.com got %s, then %s: want the same address for the agent's life", a1, a2)
	}
	for _, tc := range []struct {
		addr netip.Addr
		name string
		ok   bool
	}{
		{a1, "a.example.com", true},
		{b, "b.example.com", true},
		{netip.AddrFrom16(a1.As16()), "a.example.com", true}, // IPv4-mapped, as an IPv6 socket reports it
		{netip.MustParseAddr("100.64.0.3"), "", false},
		{netip.MustParseAddr("198.18.0.1"), "", false},
	} {
		if n, ok := p.name(tc.addr); n != tc.name || ok != tc.ok {
			t.Errorf("name(%s) = %q, %v; want %q, %v", tc.addr, n, ok, tc.name, tc.ok)
		}
	}
}

func TestSynthPoolBounded(t *testing.T) {
	tests := []struct {
		name   string
		prefix string
		max    int
		want   []string // addresses handed out, in order, until full
	}{
		{"max caps the range", "100.64.0.0/16", 3, []string{"100.64.0.1", "100.64.0.2", "100.64.0.3"}},
		{"range caps max", "100.64.0.0/30", 10, []string{"100.64.0.1", "100.64.0.2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newSynthPool(netip.MustParsePrefix(tc.prefix), tc.max)
			names := []string{"n0.example.com", "n1.example.com", "n2.example.com"}
			for i, want := range tc.want {
				a, err := p.addr(names[i])
				if err != nil || a.String() != want {
					t.Fatalf("addr(%s) = %s, %v; want %s", names[i], a, err, want)
				}
			}
			if a, err := p.addr("full.example.com"); !errors.Is(err, errPoolFull) {
				t.Fatalf("addr of a new name in a full pool = %s, %v; want %v", a, err, errPoolFull)
			}
			// Names already mapped keep their addresses when the pool is full.
			if a, err := p.addr(names[0]); err != nil || a.String() != tc.want[0] {
				t.Errorf("addr(%s) in a full pool = %s, %v; want %s", names[0], a, err, tc.want[0])
			}
			if n, ok := p.name(netip.MustParseAddr(tc.want[len(tc.want)-1])); !ok || n != names[len(tc.want)-1] {
				t.Errorf("last address maps to %q, %v", n, ok)
			}
		})
	}
}
