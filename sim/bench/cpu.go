package bench

import (
	"context"
	"fmt"

	"github.com/c2clab/c2clab/sim/lab"
	"github.com/c2clab/c2clab/sim/measure/cpuacct"
)

// cpuReader reads the CPU a path's processes have spent so far.
type cpuReader interface {
	read(ctx context.Context) (cpuacct.Usage, error)
}

// cpuReader decides, in this one place, how path's CPU is read: where the
// host sees the nodes as its own processes (local, netns), a cpuacct
// group of their PIDs and socat's, which also counts their children; on
// the kubernetes backend, where the nodes run in their Pods' PID
// namespaces, each node's /proc read by its Pod's machine process
// (lab.Lab.NodeCPU). It returns the reader and its cost source, or why
// the path's cost cannot be read.
func (b *bench) cpuReader(ctx context.Context, path string, nodes []string) (cpuReader, string, error) {
	if err := b.backend.Supports(lab.FeatureHostProcesses); err != nil {
		return b.nodesCPU(ctx, nodes)
	}
	all, err := b.lab.Nodes(ctx)
	if err != nil {
		return nil, "", err
	}
	var pids []int
	for _, n := range all {
		for _, want := range nodes {
			if n.Name == want {
				pids = append(pids, n.PID)
			}
		}
	}
	if path == PathSocat {
		pids = b.socatPIDs
	}
	g, err := cpuacct.New(b.lab.ID+"-"+path, pids...)
	if err != nil {
		return nil, "", fmt.Errorf("bench: %s: %w", path, err)
	}
	b.groups = append(b.groups, g)
	source := g.Source
	if g.Why != "" {
		source += " (" + g.Why + ")"
	}
	return groupCPU{g}, source, nil
}

// nodesCPU reads the named nodes through the lab, once now to know it
// can; its source is the machines'.
func (b *bench) nodesCPU(ctx context.Context, nodes []string) (cpuReader, string, error) {
	if len(nodes) == 0 {
		return nil, "", cpuacct.ErrNoProcess
	}
	r := labCPU{lab: b.lab, nodes: nodes}
	source := ""
	for _, n := range nodes {
		_, s, err := b.lab.NodeCPU(ctx, n)
		if err != nil {
			return nil, "", fmt.Errorf("cost not read: %w", err)
		}
		source = s
	}
	return r, source, nil
}

type groupCPU struct{ g *cpuacct.Group }

func (g groupCPU) read(context.Context) (cpuacct.Usage, error) { return g.g.Read() }

// labCPU sums the lab's nodes' CPU (lab.Lab.NodeCPU).
type labCPU struct {
	lab   *lab.Lab
	nodes []string
}

func (l labCPU) read(ctx context.Context) (cpuacct.Usage, error) {
	var sum cpuacct.Usage
	for _, n := range l.nodes {
		u, _, err := l.lab.NodeCPU(ctx, n)
		if err != nil {
			return sum, fmt.Errorf("bench: %w", err)
		}
		sum.User += u.User
		sum.System += u.System
	}
	return sum, nil
}
