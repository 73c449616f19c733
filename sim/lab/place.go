package lab

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"

	"github.com/c2clab/c2clab/sim/netlab"
)

// Backends name where a lab's nodes run.
const (
	// BackendLocal runs every node as a process on its own loopback
	// address; it needs no privileges.
	BackendLocal = "local"
	// BackendNetns runs every machine (broker, device, app server, App
	// Connector) in its own network namespace on a CNI bridge network;
	// it needs root on Linux.
	BackendNetns = "netns"
	// BackendContainer runs every machine in Docker containers (one per
	// node, sharing the machine's network namespace) on a bridge network
	// of the run, from a FROM scratch image of a static c2clab binary.
	BackendContainer = "container"
)

// host is one machine of the lab (the broker, a device, an app server, an
// App Connector): the address its nodes listen on, and how to run a
// command on it.
type host struct {
	name string // the backend's name for the machine
	addr netip.Addr
	// wrap turns a command into one that runs on the host; nil runs it as is.
	wrap func(cmd []string) []string
	// start runs a node on the host; nil starts the node as a process of
	// the lab, wrapped by wrap. The container backend starts containers.
	start func(ctx context.Context, n nodeRun) (runner, error)
	// referenceAgent marks an agent node that runs the lab's own agent
	// even where Spec.AgentImage is set (DeviceOptions.ReferenceAgent).
	referenceAgent bool
}

func (h host) command(cmd []string) []string {
	if h.wrap == nil {
		return cmd
	}
	return h.wrap(cmd)
}

// placer gives each machine of a lab its host. Nodes know only their
// addresses, so a new placement changes nothing in them.
type placer interface {
	place(ctx context.Context, name string) (host, error)
	// impair splices the link emulator into h's attachment.
	impair(ctx context.Context, h host, imp netlab.Impairment, start netlab.EmuStarter) error
	close() error
}

// ErrNeedsNetns is returned for link impairments on a backend without
// network namespaces: there is no link to impair.
var ErrNeedsNetns = errors.New("lab: link impairments need the netns or kubernetes backend")

// ErrNeedsRoot is returned for the netns backend when not run as root:
// creating namespaces and running CNI plugins needs it.
var ErrNeedsRoot = errors.New("lab: the netns backend needs root")

// ErrAgentCommandInContainer is returned for an external agent command on
// the container backend, whose image holds only the c2clab binary.
var ErrAgentCommandInContainer = errors.New("lab: an external agent command runs on the local and netns backends only")

// agentImager is a placer that can run agents from an image of their own.
type agentImager interface {
	useAgentImage(ctx context.Context, ref string) error
}

// devicePlacer is a placer that must know, when it places a device,
// whether the device's agent is the vendor's from Spec.AgentImage: the
// kubernetes backend, since a Pod's containers are fixed when it is made.
type devicePlacer interface {
	placeDevice(ctx context.Context, name string, vendorAgent bool) (host, error)
}

// placeDevice places a device, telling a devicePlacer whether its agent
// runs from the vendor's image.
func (l *Lab) placeDevice(ctx context.Context, name string, reference bool) (host, error) {
	if dp, ok := l.placer.(devicePlacer); ok {
		return dp.placeDevice(ctx, name, l.spec.AgentImage != "" && !reference)
	}
	return l.placer.place(ctx, name)
}

// ErrAgentImageNeedsContainer is returned for Spec.AgentImage on a backend
// other than containers.
var ErrAgentImageNeedsContainer = errors.New("lab: an agent image runs on the container and kubernetes backends only")

// ErrNoDocker is returned for the container backend when no Docker engine
// answers.
var ErrNoDocker = errors.New("lab: no Docker engine answers")

// loopback places every machine on its own 127.A.B.N address.
type loopback struct{ pool *addrPool }

func (p loopback) place(context.Context, string) (host, error) {
	a, err := p.pool.take()
	return host{addr: a}, err
}

func (loopback) impair(context.Context, host, netlab.Impairment, netlab.EmuStarter) error {
	return ErrNeedsNetns
}

func (loopback) close() error { return nil }

// newPlacer returns the placer of the spec's backend.
func newPlacer(ctx context.Context, spec Spec, runID string) (placer, error) {
	switch spec.Backend {
	case "", BackendLocal:
		return loopback{pool: newAddrPool(runID)}, nil
	case BackendNetns:
		if os.Geteuid() != 0 {
			return nil, ErrNeedsRoot
		}
		return newNetnsPlacer(ctx, runID, spec.CNIBinDir, spec.CNIConfig)
	case BackendContainer:
		pl, err := newContainerPlacer(ctx, runID, cmp.Or(spec.ContainerBinary, spec.Command[0]), spec.ContainerImage)
		if err != nil || spec.AgentImage == "" {
			return pl, err
		}
		if err := pl.(agentImager).useAgentImage(ctx, spec.AgentImage); err != nil {
			return nil, errors.Join(err, pl.close())
		}
		return pl, nil
	case BackendKubernetes:
		pl, err := newKubePlacer(ctx, runID, spec.Kube, spec.CNIConfig)
		if err != nil || spec.AgentImage == "" {
			return pl, err
		}
		if err := pl.(agentImager).useAgentImage(ctx, spec.AgentImage); err != nil {
			return nil, errors.Join(err, pl.close())
		}
		return pl, nil
	}
	return nil, fmt.Errorf("lab: backend %q: want %q, %q, %q or %q", string(spec.Backend), BackendLocal, BackendNetns, BackendContainer, BackendKubernetes)
}
