package kubenode

import (
	"errors"
	"net/netip"
	"os"
	"slices"
	"testing"
)

// TestSlotsDoNotOverlap checks that the slots' bridges, subnets and
// cgroups are all different, that every subnet is in the lab range apart
// from kubetest's Service range, and that slot 0 keeps the addresses the
// single node had.
func TestSlotsDoNotOverlap(t *testing.T) {
	lab, services := netip.MustParsePrefix("100.64.0.0/16"), netip.MustParsePrefix("100.64.0.0/24")
	var names []string
	var nets []netip.Prefix
	for k := range Slots {
		s := slotFor(k)
		names = append(names, s.bridge, s.labBridge, s.cgroupRoot)
		for _, sub := range []string{s.subnet, s.labSubnet} {
			p := netip.MustParsePrefix(sub)
			if !lab.Contains(p.Addr()) || p.Bits() < lab.Bits() || p.Overlaps(services) {
				t.Errorf("slot %d: subnet %s is not in %s apart from %s", k, p, lab, services)
			}
			for _, q := range nets {
				if p.Overlaps(q) {
					t.Errorf("slot %d: subnet %s overlaps %s", k, p, q)
				}
			}
			nets = append(nets, p)
		}
		if len(s.bridge) > 15 {
			t.Errorf("slot %d: bridge name %q is longer than IFNAMSIZ allows", k, s.bridge)
		}
	}
	slices.Sort(names)
	if len(slices.Compact(names)) != 3*Slots {
		t.Errorf("names repeat across slots: %v", names)
	}
	if s := slotFor(0); s.bridge != "c2ckn0" || s.subnet != "100.64.64.0/24" {
		t.Errorf("slot 0 is %s %s, want the single node's c2ckn0 100.64.64.0/24", s.bridge, s.subnet)
	}
}

// TestSlotsAreTakenAndTheLastOutCleans takes every slot of a machine whose
// books are in a directory of the test's, checks that one more finds none
// free, that every node sees the state the first one wrote, and that only
// the last node out runs the machine-wide cleanup.
func TestSlotsAreTakenAndTheLastOutCleans(t *testing.T) {
	b := books{dir: t.TempDir()}
	var held []*machine
	for range Slots {
		m := claimMachine(t, b)
		held = append(held, m)
	}
	seen := map[int]bool{}
	for _, m := range held {
		seen[m.slot.index] = true
		if !slices.Equal(m.state.HostDirs, held[0].state.HostDirs) || !slices.Equal(m.state.PodNetns, held[0].state.PodNetns) {
			t.Errorf("slot %d read state %+v, the first node wrote %+v", m.slot.index, m.state, held[0].state)
		}
	}
	if len(seen) != Slots {
		t.Fatalf("slots taken: %v, want %d different", seen, Slots)
	}
	if m, err := b.tryClaim(); m != nil || err != nil {
		t.Fatalf("a slot more than %d: %+v, %v", Slots, m, err)
	}
	calls := 0
	lastOut := func(state) error { calls++; return nil }
	for i, m := range held {
		if err := m.release(lastOut); err != nil {
			t.Fatal(err)
		}
		if want := 0; i < len(held)-1 && calls != want {
			t.Fatalf("after %d of %d nodes left, the machine-wide cleanup ran %d times", i+1, len(held), calls)
		}
	}
	if calls != 1 {
		t.Errorf("the last node out ran the machine-wide cleanup %d times, want 1", calls)
	}
	if _, err := os.Stat(b.state()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state file after the last node: %v, want it gone", err)
	}
	// A slot is free again, and its node is the first of a new spell.
	m := claimMachine(t, b)
	if err := m.release(lastOut); err != nil || calls != 2 {
		t.Errorf("a lone node's release: %v, cleanup runs %d, want 2", err, calls)
	}
}
