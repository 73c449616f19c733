package lab

import (
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
)

// Nodes lists the lab's running nodes with their host PID and network
// namespace, read from /proc: a check that each machine really has its
// own network stack need not trust the lab's bookkeeping.
func (l *Lab) Nodes(ctx context.Context) ([]Node, error) {
	l.mu.Lock()
	procs := slices.Clone(l.order)
	l.mu.Unlock()
	out := make([]Node, 0, len(procs))
	for _, p := range procs {
		pid, err := p.hostPID(ctx)
		if err != nil {
			return nil, fmt.Errorf("lab: node %q: %w", p.name, err)
		}
		ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", pid))
		if err != nil {
			return nil, fmt.Errorf("lab: node %q: %w", p.name, err)
		}
		out = append(out, Node{Name: p.name, Machine: p.machine, PID: pid, NetNS: ns, Addrs: maps.Clone(p.ready.Addrs)})
	}
	return out, nil
}
