// Package lab runs a client-to-client lab: it creates the run's CAs and
// certificates, starts the broker, device services and agents as separate
// processes of the c2clab binary, and gives scenarios handles to drive and
// inspect them. This file is the loopback backend: every node is a process
// on its own 127.x.y.z address, so the lab runs without root; the nodes know
// only their addresses, so other placements change nothing in them.
package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/c2clab/c2clab/sim/broker"
	"github.com/c2clab/c2clab/sim/pki"
	"github.com/c2clab/c2clab/sim/policy"
)

// Spec configures a lab. The zero value is not usable: Command and at least
// one tenant are required.
type Spec struct {
	// Command starts a node: Command... ROLE --config FILE --ready-file FILE.
	// For the CLI this is {"/path/to/c2clab", "node"}.
	Command []string
	// AgentCommand, when set, starts the agents instead of Command: a
	// vendor's agent, started as AgentCommand... agent --config FILE
	// --ready-file FILE (docs/PROTOCOL.md section 12). Local and netns
	// backends only.
	AgentCommand []string
	// AgentImage, when set, runs the agents from this image (a vendor's):
	// its entrypoint gets agent --config FILE --ready-file FILE. On the
	// container backend the image is the local engine's (nothing is
	// pulled), with the run directory mounted at its own path; on the
	// kubernetes backend the cluster's nodes hold it, its entrypoint is
	// Kube.AgentEntrypoint, and it runs as a container of each device
	// Pod whose agent is under test (kube_agent_linux.go).
	AgentImage string
	// Env is added to each node's environment.
	Env []string
	// Tenants are the organizations the broker serves.
	Tenants []Tenant
	// Dir is where the run directory is made; empty means os.TempDir().
	Dir string
	// Backend is where nodes run; empty means BackendLocal.
	Backend Backend
	// CNIBinDir holds the CNI plugins for BackendNetns; empty means
	// DefaultCNIBinDir(). Missing plugins are built there from the pinned
	// containernetworking/plugins module.
	CNIBinDir string
	// ContainerBinary is a static c2clab binary for BackendContainer's
	// image; empty means Command[0].
	ContainerBinary string
	// ContainerImage, when set, is a local image of ContainerBinary
	// (image.Build) that BackendContainer runs every node from, instead of
	// building one per run: a suite of many labs builds it once. The lab
	// neither builds nor removes it; whoever built it does.
	ContainerImage string
	// Kube is where BackendKubernetes runs the machines' Pods, and from
	// which image.
	Kube KubeSpec
	// CNIConfig is the lab network's CNI config list. BackendNetns: nil
	// means a bridge with host-local addresses on a /24 of 198.18.0.0/15.
	// BackendKubernetes: a NetworkAttachmentDefinition carrying it, each
	// machine on net1 at an address of its subnet; nil means the
	// cluster's Pod network alone (KubeSpec.PodNetwork).
	CNIConfig []byte
	// KeepaliveInterval and KeepaliveTimeout are the broker's; zero means
	// the protocol's defaults. Scenarios about expiry shorten them.
	KeepaliveInterval, KeepaliveTimeout time.Duration
	// RelayDelay is the broker's test knob (broker.Config.RelayDelay):
	// zero in every real run.
	RelayDelay time.Duration
}

// Tenant is one organization and its policy.
type Tenant struct {
	ID     string
	Policy policy.Config
}

// Lab is a running lab. Its methods are safe for concurrent use.
type Lab struct {
	ID  string // run ID, on every resource the run creates
	Dir string // run directory; removed by Close

	spec       Spec
	cloud      *pki.CA
	tenantCAs  map[string]*pki.CA
	adminToken string
	admin      Admin
	broker     *proc
	brokerHost host
	brokerCfg  broker.Config
	brokerName string // what nodes dial the broker by; empty: its address
	restarts   int    // broker restarts so far, to name each new node
	placer     placer
	spawner    *spawner
	release    func() // drops the TMPDIR claim of a run directory elsewhere (claimElsewhere); nil if none

	mu      sync.Mutex // guards devices, order, closed
	devices map[string]*Device
	order   []*proc // start order; stopped in reverse
	closed  bool
}

// New creates the run directory and CAs and starts the broker.
func New(ctx context.Context, spec Spec) (*Lab, error) {
	if len(spec.Command) == 0 {
		return nil, errors.New("lab: spec has no node command")
	}
	if len(spec.Tenants) == 0 {
		return nil, errors.New("lab: spec has no tenant")
	}
	if err := spec.Backend.Supports(FeatureAgentCommand); len(spec.AgentCommand) > 0 && err != nil {
		return nil, err
	}
	if err := spec.Backend.Supports(FeatureAgentImage); spec.AgentImage != "" && err != nil {
		return nil, err
	}
	id, err := NewRunID()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(orTemp(spec.Dir), "c2clab-"+id)
	remember(id, dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("lab: run directory: %w", err)
	}
	// The owner first: until it is written, lab down --all would take a
	// lab that is still building its network for a crashed one.
	if err := writeOwnerPID(dir); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("lab: %w", err)
	}
	release, err := claimElsewhere(id, dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	pl, err := newPlacer(ctx, spec, id)
	if err != nil {
		os.RemoveAll(dir)
		release()
		return nil, err
	}
	l := &Lab{ID: id, Dir: dir, spec: spec, tenantCAs: map[string]*pki.CA{}, devices: map[string]*Device{}, placer: pl, spawner: newSpawner(), release: release}
	ok := false
	defer func() {
		if !ok {
			l.Close()
		}
	}()
	if err := l.makeCAs(); err != nil {
		return nil, err
	}
	if err := l.startBroker(ctx); err != nil {
		return nil, err
	}
	ok = true
	return l, nil
}

func orTemp(dir string) string {
	if dir == "" {
		return os.TempDir()
	}
	return dir
}

// Close stops every node in reverse start order and removes the run
// directory, keys included. It is idempotent.
func (l *Lab) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	order := l.order
	l.mu.Unlock()
	for i := len(order) - 1; i >= 0; i-- {
		order[i].stop()
	}
	l.spawner.close()
	if err := l.placer.close(); err != nil {
		// Keep the run directory: it is how lab down --all finds what
		// the failed teardown left in the kernel.
		return fmt.Errorf("lab: close %s (run directory %s kept for lab down --all): %w", l.ID, l.Dir, err)
	}
	err := os.RemoveAll(l.Dir)
	if l.release != nil {
		l.release()
	}
	return err
}

// Logs returns the last n lines of every node's log, for a failed scenario.
func (l *Lab) Logs(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out string
	for _, p := range l.order {
		out += fmt.Sprintf("--- %s (%s)\n%s", p.name, p.logPath, tail(p.logPath, n))
	}
	return out
}

// NodeLog returns the whole log of the node called name (a device's agent
// is "<device>-agent"), so a step can check what one node logged rather
// than what any node did; false when the lab runs no such node.
func (l *Lab) NodeLog(name string) (string, bool) {
	p := l.node(name)
	if p == nil {
		return "", false
	}
	data, err := os.ReadFile(p.logPath)
	return string(data), err == nil
}

// start runs a node of role on h and tracks it, so Close stops it.
func (l *Lab) start(ctx context.Context, h host, name, role string, cfg any) (*proc, error) {
	return l.startWith(ctx, h, l.spec.Command, name, role, cfg)
}

// startWith is start with the node's command given.
func (l *Lab) startWith(ctx context.Context, h host, command []string, name, role string, cfg any) (*proc, error) {
	p, err := startNode(ctx, l.spawner, h, command, l.spec.Env, l.Dir, name, role, cfg)
	if err != nil {
		return nil, err
	}
	return p, l.track(p)
}

func (l *Lab) track(p *proc) error {
	l.mu.Lock()
	closed := l.closed
	if !closed {
		l.order = append(l.order, p)
	}
	l.mu.Unlock()
	if closed {
		// Close has run and will not see p: stop it here.
		p.stop()
		return errors.New("lab: closed")
	}
	return nil
}
