package lab

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/c2clab/c2clab/sim/image"
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
		out = append(out, Node{Name: p.name, Machine: p.machine, PID: pid, NetNS: ns})
	}
	return out, nil
}

// hostPID is the node's process ID on the host. On loopback and netns the
// lab started the node itself (`ip netns exec` execs the node in place); on
// the container backend it started a `docker run` client, and the node is
// the process of the container that command names.
func (p *proc) hostPID(ctx context.Context) (int, error) {
	args := p.cmd.Args
	i := slices.Index(args, "--name")
	if len(args) < 2 || args[0] != "docker" || args[1] != "run" || i < 0 || i+1 >= len(args) {
		return p.cmd.Process.Pid, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := image.Docker(ctx, "inspect", "--format", "{{.State.Pid}}", args[i+1])
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(out)
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("container %q has no running process (pid %q)", args[i+1], out)
	}
	return pid, nil
}
