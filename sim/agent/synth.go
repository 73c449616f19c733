package agent

import (
	"errors"
	"net/netip"
	"sync"
)

// SyntheticRange is where the agent's DNS takes the addresses it hands out
// for the names its segments cover, as ZPA's client connector does.
var SyntheticRange = netip.MustParsePrefix("100.64.0.0/16")

// errPoolFull is returned when every synthetic address is taken.
var errPoolFull = errors.New("synthetic address pool exhausted")

// synthPool maps names to synthetic addresses and back. A name keeps its
// address for the pool's life (a client may hold it longer than the TTL);
// the pool is bounded by its range, and once that is used up new names get
// no address rather than taking one another name still resolves to.
type synthPool struct {
	first netip.Addr // first address handed out
	size  int        // how many addresses there are

	mu     sync.Mutex // guards the fields below
	byName map[string]netip.Addr
	byAddr map[netip.Addr]string
	next   netip.Addr // the next free address
}

// newSynthPool returns a pool of the addresses of p after the network
// address, without the broadcast one, at most max of them (0: all).
func newSynthPool(p netip.Prefix, max int) *synthPool {
	p = p.Masked()
	size := 1<<(p.Addr().BitLen()-p.Bits()) - 2
	if max > 0 && max < size {
		size = max
	}
	first := p.Addr().Next()
	return &synthPool{first: first, size: size, next: first,
		byName: map[string]netip.Addr{}, byAddr: map[netip.Addr]string{}}
}

// addr returns name's address, taking the next free one the first time.
func (s *synthPool) addr(name string) (netip.Addr, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.byName[name]; ok {
		return a, nil
	}
	if len(s.byName) >= s.size {
		return netip.Addr{}, errPoolFull
	}
	a := s.next
	s.next = a.Next()
	s.byName[name], s.byAddr[a] = a, name
	return a, nil
}

// name returns the name a was handed out for.
func (s *synthPool) name(a netip.Addr) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.byAddr[a.Unmap()]
	return n, ok
}
