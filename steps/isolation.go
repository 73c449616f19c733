package steps

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"runtime"

	"github.com/cucumber/godog"

	"github.com/c2clab/c2clab/sim/lab"
)

// machinesInNamespaces skips the scenario on the local backend, whose
// machines share the host's network stack on loopback addresses.
func machinesInNamespaces(ctx context.Context) (context.Context, error) {
	if err := getWorld(ctx).cfg.backend().Supports(lab.FeatureOwnNetworkStack); err != nil {
		return skip(ctx, err.Error())
	}
	return ctx, nil
}

// nodesIsolated checks, from /proc rather than the lab's bookkeeping, that
// every node is a process of its own, that the nodes of one machine share
// its network namespace, and that no two machines, nor a machine and the
// runner, share one.
func nodesIsolated(ctx context.Context) error {
	w := getWorld(ctx)
	if w.lab == nil {
		return errors.New("the lab is not running (add \"When the lab starts\")")
	}
	if err := w.cfg.backend().Supports(lab.FeatureHostProcesses); err != nil {
		return fmt.Errorf("%w: %w", err, godog.ErrSkip) // the check reads the nodes' /proc
	}
	nodes, err := w.lab.Nodes(ctx)
	if err != nil {
		return err
	}
	self, err := runnerNetns()
	if err != nil {
		return fmt.Errorf("the runner's network namespace: %w", err)
	}
	var errs []error
	pids := map[int]string{}
	nsOf := map[string]string{}      // machine -> namespace
	machineOf := map[string]string{} // namespace -> machine
	for _, n := range nodes {
		note(ctx, "%-24s pid %-7d %s on %s", n.Name, n.PID, n.NetNS, n.Machine)
		if other, dup := pids[n.PID]; dup {
			errs = append(errs, fmt.Errorf("nodes %q and %q are one process (%d)", other, n.Name, n.PID))
		}
		pids[n.PID] = n.Name
		if n.NetNS == self {
			errs = append(errs, fmt.Errorf("node %q runs in the runner's network namespace %s", n.Name, self))
		}
		if ns, seen := nsOf[n.Machine]; seen && ns != n.NetNS {
			errs = append(errs, fmt.Errorf("node %q is in %s, apart from the rest of machine %q in %s", n.Name, n.NetNS, n.Machine, ns))
		}
		nsOf[n.Machine] = n.NetNS
		if m, seen := machineOf[n.NetNS]; seen && m != n.Machine {
			errs = append(errs, fmt.Errorf("machines %q and %q share the network namespace %s", m, n.Machine, n.NetNS))
		}
		machineOf[n.NetNS] = n.Machine
	}
	if len(nodes) < 2 {
		errs = append(errs, fmt.Errorf("the lab runs %d nodes, want the broker and more", len(nodes)))
	}
	note(ctx, "%d nodes on %d machines, each machine in its own network namespace", len(nodes), len(nsOf))
	return errors.Join(errs...)
}

// runnerNetns is the network namespace the steps run in. Not
// /proc/self/ns/net: that is the main thread's, and netlab leaves a locked
// thread inside a namespace it created when it ends (the runtime wedges
// the main thread rather than end it, if the goroutine ran there).
func runnerNetns() (string, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return os.Readlink("/proc/thread-self/ns/net")
}

// devicesOnLabNetwork checks that every device's interface IP lies in the
// range the lab's networks take their addresses from.
func devicesOnLabNetwork(ctx context.Context, prefix string) error {
	w := getWorld(ctx)
	want, err := netip.ParsePrefix(prefix)
	if err != nil {
		return fmt.Errorf("range %q: %w", prefix, err)
	}
	var errs []error
	for _, decl := range w.setup.devices {
		d, err := w.device(decl.profile.Name)
		if err != nil {
			return err
		}
		if !want.Contains(d.InterfaceIP) {
			errs = append(errs, fmt.Errorf("device %q has interface IP %s, outside %s", d.Name, d.InterfaceIP, want))
		}
	}
	return errors.Join(errs...)
}
