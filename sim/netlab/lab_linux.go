package netlab

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sync"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/plugins/pkg/ns"
)

// Lab is one run's networks and hosts. Its methods are safe for concurrent
// use; Close is idempotent.
type Lab struct {
	runID    string
	stateDir string
	cni      *libcni.CNIConfig

	mu       sync.Mutex // guards the fields below
	closed   bool
	nextNet  int
	fwAdded  bool
	nextEmu  int
	networks map[string]*network
	hosts    map[string]*Host
	emus     map[string]*Emu // by emuKey; nil while Impair works on it
	undo     undoStack       // run in reverse by Close
}

type network struct {
	Network
	list *libcni.NetworkConfigList
}

// New starts a lab for runID whose CNI plugins are in cniBinDir (see
// BuildPlugins). It creates only the run's state directory.
func New(runID, cniBinDir string) (*Lab, error) {
	if err := checkRunID(runID); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(cniBinDir, "bridge")); err != nil {
		return nil, fmt.Errorf("netlab: cni plugins: %w", err)
	}
	l := &Lab{
		runID:    runID,
		stateDir: filepath.Join(StateRoot, runID),
		networks: map[string]*network{},
		hosts:    map[string]*Host{},
		emus:     map[string]*Emu{},
	}
	if err := os.MkdirAll(l.stateDir, 0o700); err != nil {
		return nil, fmt.Errorf("netlab: state: %w", err)
	}
	l.undo.push(func() error { return os.RemoveAll(l.stateDir) })
	l.cni = libcni.NewCNIConfigWithCacheDir([]string{cniBinDir}, filepath.Join(l.stateDir, "cache"), nil)
	return l, nil
}

// RunID returns the lab's run ID.
func (l *Lab) RunID() string { return l.runID }

// StateDir returns the run's state directory (IPAM data, CNI cache).
func (l *Lab) StateDir() string { return l.stateDir }

// AddNetwork adds a CNI network. conflist is an ordinary CNI configuration
// list; nil means the default (bridge + host-local on a free /24 of
// 198.18.0.0/15). The lab renames the list to RUNID-NAME, names every bridge
// plugin's device after the run and keeps host-local state in the run's
// state directory. A bridge device is created here, with the gateway
// address when the plugin is the gateway, so the subnet is taken at once.
func (l *Lab) AddNetwork(ctx context.Context, name string, conflist []byte) (*Network, error) {
	if err := checkName("network", name); err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock() // networks are few; serialising them is simplest
	if l.closed {
		return nil, fmt.Errorf("add network %q: %w", name, ErrClosed)
	}
	if _, ok := l.networks[name]; ok {
		return nil, fmt.Errorf("add network %q: %w", name, ErrExists)
	}
	n := &network{Network: Network{Name: name, CNIName: l.runID + "-" + name}}
	bridge := bridgeName(l.runID, l.nextNet)
	l.nextNet++
	var undo undoStack
	if err := l.placeNetwork(ctx, n, bridge, conflist, &undo); err != nil {
		return nil, errors.Join(fmt.Errorf("add network %q: %w", name, err), undo.run())
	}
	undo.moveTo(&l.undo)
	if err := l.openFirewall(ctx); err != nil {
		return nil, fmt.Errorf("add network %q: %w", name, err)
	}
	l.networks[name] = n
	out := n.Network
	return &out, nil
}

// placeNetwork chooses the subnet, prepares the list and creates the bridge,
// all under the cross-process allocation lock.
func (l *Lab) placeNetwork(ctx context.Context, n *network, bridge string, conflist []byte, undo *undoStack) error {
	unlock, err := lockAlloc(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if conflist == nil {
		subnet, err := l.freeSubnet(l.nextNet - 1)
		if err != nil {
			return err
		}
		conflist = defaultConfList(subnet)
	}
	raw, spec, err := prepareConfList(conflist, n.CNIName, bridge, filepath.Join(l.stateDir, "ipam"))
	if err != nil {
		return err
	}
	if spec.subnet.IsValid() {
		if used, err := subnetInUse(spec.subnet); err != nil || used {
			return errors.Join(err, fmt.Errorf("subnet %s: %w", spec.subnet, ErrExists))
		}
	}
	if n.list, err = libcni.ConfListFromBytes(raw); err != nil {
		return fmt.Errorf("conflist: %w", err)
	}
	n.Subnet, n.Bridge = spec.subnet, spec.bridge
	if spec.isGateway {
		n.Gateway = spec.gateway
	}
	if spec.bridge == "" {
		return nil
	}
	var gw netip.Prefix
	if spec.isGateway && spec.subnet.IsValid() {
		gw = netip.PrefixFrom(spec.gateway, spec.subnet.Bits())
	}
	undo.push(func() error { return deleteLink(bridge) })
	return createBridge(bridge, gw)
}

// freeSubnet returns the first candidate /24 for the n-th network that no
// route of the root namespace overlaps.
func (l *Lab) freeSubnet(n int) (netip.Prefix, error) {
	for k := range subnetSlots {
		p := subnetCandidate(l.runID, n, k)
		used, err := subnetInUse(p)
		if err != nil {
			return netip.Prefix{}, err
		}
		if !used {
			return p, nil
		}
	}
	return netip.Prefix{}, ErrNoSubnet
}

func (l *Lab) openFirewall(ctx context.Context) error {
	if l.fwAdded {
		return nil
	}
	added, err := fwAdd(ctx, l.runID)
	if added {
		l.fwAdded = true
		l.undo.push(func() error {
			_, err := fwDelete(context.Background(), func(id string) bool { return id == l.runID })
			return err
		})
	}
	return err
}

// Networks returns the lab's networks.
func (l *Lab) Networks() []Network {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Network, 0, len(l.networks))
	for _, n := range l.networks {
		out = append(out, n.Network)
	}
	return out
}

// Command returns a command that runs inside the host's namespace through
// `ip netns exec`.
func (h *Host) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", h.NS, name}, args...)...)
}

// Do runs fn on an OS thread inside the host's namespace, for example to
// dial from the host. fn must not start goroutines that expect to be in the
// namespace.
func (h *Host) Do(fn func() error) error {
	target, err := ns.GetNS(h.Path)
	if err != nil {
		return fmt.Errorf("host %q: %w", h.Name, err)
	}
	defer target.Close()
	return target.Do(func(ns.NetNS) error { return fn() })
}

// Close removes everything the lab created in reverse order: emulators
// (stopped, the host's veth put back on its bridge), CNI DEL per
// attachment, namespaces (killing what still runs in them), bridges, the
// firewall rule, leftover veths and the state directory with the IPAM data.
func (l *Lab) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	err := l.undo.run()
	_, lerr := sweepLinks(func(id string) bool { return id == l.runID })
	if err = errors.Join(err, lerr); err != nil {
		return fmt.Errorf("close lab %q: %w", l.runID, err)
	}
	return nil
}

// undoStack holds cleanups in creation order.
type undoStack []func() error

func (u *undoStack) push(f func() error) { *u = append(*u, f) }

// run calls every cleanup, newest first, once, and joins their errors.
func (u *undoStack) run() error {
	var errs []error
	for i := len(*u) - 1; i >= 0; i-- {
		errs = append(errs, (*u)[i]())
	}
	*u = nil
	return errors.Join(errs...)
}

// moveTo appends u's cleanups to dst and empties u.
func (u *undoStack) moveTo(dst *undoStack) {
	*dst = append(*dst, *u...)
	*u = nil
}
