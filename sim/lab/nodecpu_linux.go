package lab

import (
	"context"
	"fmt"
	"maps"
	"net/netip"

	"github.com/c2clab/c2clab/sim/measure/cpuacct"
)

// This file is what c2clab bench needs of a node where the host cannot
// see it as a process of its own (the kubernetes backend): its CPU read
// where it runs, its announced addresses and where it is placed.

// NodeCPU is the CPU time the running node called name has spent so far
// (user and system, its live threads, its children left out) and how it
// was read: on the kubernetes backend by the machine process in its Pod
// (sim/pod, GET /cpu), elsewhere from the host's /proc; both with
// cpuacct.Process, in nanoseconds.
func (l *Lab) NodeCPU(ctx context.Context, name string) (cpuacct.Usage, string, error) {
	p := l.node(name)
	if p == nil {
		return cpuacct.Usage{}, "", fmt.Errorf("lab: cpu of node %q: the lab runs no such node", name)
	}
	if k, ok := p.run.(*kubeNode); ok {
		a, err := k.m.client.CPU(ctx, k.name)
		if err != nil {
			return cpuacct.Usage{}, "", fmt.Errorf("lab: cpu of node %q in pod %s: %w", name, k.m.pod, err)
		}
		return a.Usage, a.Source, nil
	}
	pid, err := p.hostPID(ctx)
	if err != nil {
		return cpuacct.Usage{}, "", fmt.Errorf("lab: cpu of node %q: %w", name, err)
	}
	u, err := cpuacct.Process(pid)
	return u, cpuacct.SourceProcess, err
}

// NodeAddrs returns the addresses the running node called name announced
// in its ready file, as the runner reaches them; false for no such node.
// A node in a Pod that listens on every address (the broker behind its
// Service, and so its debug server) announces an unspecified host, which
// stands for the Pod's address here.
func (l *Lab) NodeAddrs(name string) (map[string]string, bool) {
	p := l.node(name)
	if p == nil {
		return nil, false
	}
	addrs := maps.Clone(p.ready.Addrs)
	if k, ok := p.run.(*kubeNode); ok {
		for key, a := range addrs {
			if ap, err := netip.ParseAddrPort(a); err == nil && ap.Addr().IsUnspecified() {
				addrs[key] = netip.AddrPortFrom(k.m.podIP, ap.Port()).String()
			}
		}
	}
	return addrs, true
}

// NodeWhere says where the node called name runs: on the kubernetes
// backend its Pod and the cluster's node the Pod was scheduled onto
// ("pod broker-1 on node n1"), elsewhere its machine's name.
func (l *Lab) NodeWhere(name string) string {
	p := l.node(name)
	if p == nil {
		return ""
	}
	if k, ok := p.run.(*kubeNode); ok {
		return fmt.Sprintf("pod %s on node %s", k.m.pod, k.m.node)
	}
	return p.machine
}

// NodeNames lists the nodes the lab started, by name, in start order;
// unlike Nodes it needs no host PID, so it answers on every backend.
func (l *Lab) NodeNames() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, 0, len(l.order))
	for _, p := range l.order {
		out = append(out, p.name)
	}
	return out
}
