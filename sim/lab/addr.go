package lab

import (
	"fmt"
	"hash/fnv"
	"net/netip"
	"sync"
)

// addrPool hands out loopback addresses 127.A.B.N, where A.B comes from the
// run ID so that concurrent runs (and scenarios) get disjoint addresses and
// a device service can listen on its real port (3389, 445) at its own
// address. 127.0.0.0/8 is all loopback on Linux.
type addrPool struct {
	mu   sync.Mutex // guards next
	a, b byte
	next int
}

func newAddrPool(runID string) *addrPool {
	h := fnv.New32a()
	h.Write([]byte(runID))
	s := h.Sum32()
	// Keep A in 1..254 so the pool never overlaps 127.0.0.1.
	return &addrPool{a: byte(s%254) + 1, b: byte(s >> 8), next: 1}
}

// take returns the next address.
func (p *addrPool) take() (netip.Addr, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.next > 254 {
		return netip.Addr{}, fmt.Errorf("lab: no loopback addresses left in 127.%d.%d.0/24", p.a, p.b)
	}
	a := netip.AddrFrom4([4]byte{127, p.a, p.b, byte(p.next)})
	p.next++
	return a, nil
}
