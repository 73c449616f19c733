package lab

import (
	"errors"
	"fmt"
)

// Backend is where a lab's nodes run: BackendLocal, BackendNetns,
// BackendContainer or BackendKubernetes; empty means BackendLocal. The Backend* constants are
// untyped so that the steps' and CLI's configs, which carry the flag as a
// string, compare with them; the lab decides with the typed value.
type Backend string

// Feature is something a scenario, bench or CLI command needs of a
// backend; Backend.Supports says whether it has it.
type Feature int

const (
	// FeatureLinks: links between machines that can be impaired (NET-2).
	FeatureLinks Feature = iota + 1
	// FeatureIntercept: the agent becomes its machine's resolver and takes
	// its connections to synthetic addresses (DeviceOptions.Intercept).
	FeatureIntercept
	// FeatureAgentCommand: agents started from a vendor's command
	// (Spec.AgentCommand).
	FeatureAgentCommand
	// FeatureAgentImage: agents run from a vendor's image (Spec.AgentImage).
	FeatureAgentImage
	// FeatureEngineAgentImage: agents run from an image on this host's
	// Docker engine, so a scenario can build one and run it at once; a
	// cluster's nodes hold their images themselves.
	FeatureEngineAgentImage
	// FeatureOwnNetworkStack: each machine has a network stack of its own,
	// not the host's loopback addresses.
	FeatureOwnNetworkStack
	// FeatureHostProcesses: the runner sees every node as a process of
	// its own host (/proc): its PID, network namespace and memory.
	FeatureHostProcesses
	// FeatureLinkCut: a machine can be cut off the network and plugged
	// back (Device.SetLinkUp).
	FeatureLinkCut
	// FeatureBench: the bench's lab (its relay, direct and splice paths)
	// runs there, the runner reaching every machine's address.
	FeatureBench
	// FeatureHostCommands: a program of the host (socat, iperf3, ip) runs
	// on a machine (Device.Command, Lab.BrokerCommand).
	FeatureHostCommands
)

// ErrSharedNetworkStack is returned for FeatureOwnNetworkStack on the
// local backend, whose machines share the host's network stack.
var ErrSharedNetworkStack = errors.New("lab: machines have network namespaces of their own on the netns and container backends only")

// ErrLinkCutInPod is returned for FeatureLinkCut on the kubernetes
// backend: the lab drives a Pod's nodes through the Pod's own address, so
// cutting its link would cut the lab off the machine process that is to
// plug it back; the cluster cannot detach a Pod's network from outside.
var ErrLinkCutInPod = errors.New("lab: a link cut on the kubernetes backend would cut the lab's own channel to the Pod; not in this build")

// ErrAgentImageNotOnEngine is returned for FeatureEngineAgentImage on a
// backend whose agent images are not the local Docker engine's: on a
// cluster the image must be on its nodes (imported or pulled) before the
// lab runs it, which a scenario cannot do.
var ErrAgentImageNotOnEngine = errors.New("lab: an agent image built on this host's Docker engine runs on the container backend only (on kubernetes the image must be on the cluster's nodes: certify --backend kubernetes --agent-image)")

// ErrBenchBackend is returned for FeatureBench on the container backend
// (and any backend not named here).
var ErrBenchBackend = errors.New("lab: the bench runs on the local, netns and kubernetes backends only")

// ErrNoHostCommands is returned for FeatureHostCommands on the container
// and kubernetes backends: a machine there runs only the c2clab image's
// own nodes (the image is FROM scratch), none of the host's programs.
var ErrNoHostCommands = errors.New("lab: the host's programs run on local and netns machines only; a container's or Pod's image holds only c2clab")

// Supports returns nil if b has f, else the sentinel that says why not
// (ErrNeedsNetns, ErrInterceptNeedsNetns, ErrAgentCommandInContainer,
// ErrAgentImageNeedsContainer, ErrAgentImageNotOnEngine, ErrSharedNetworkStack, ErrNoHostPID,
// ErrLinkCutInPod, ErrBenchBackend, ErrNoHostCommands),
// wrapped with the backend's name. It is the one place that knows what
// each backend can do.
func (b Backend) Supports(f Feature) error {
	if b == "" {
		b = BackendLocal
	}
	var err error
	switch f {
	case FeatureLinks:
		err = when(b != BackendNetns && b != BackendKubernetes, ErrNeedsNetns)
	case FeatureIntercept:
		err = when(b != BackendNetns, ErrInterceptNeedsNetns)
	case FeatureAgentCommand:
		err = when(b == BackendContainer || b == BackendKubernetes, ErrAgentCommandInContainer)
	case FeatureAgentImage:
		err = when(b != BackendContainer && b != BackendKubernetes, ErrAgentImageNeedsContainer)
	case FeatureEngineAgentImage:
		err = when(b != BackendContainer, ErrAgentImageNotOnEngine)
	case FeatureOwnNetworkStack:
		err = when(b == BackendLocal, ErrSharedNetworkStack)
	case FeatureLinkCut:
		err = when(b == BackendLocal, ErrNeedsNetns)
		if b == BackendKubernetes {
			err = ErrLinkCutInPod
		}
	case FeatureHostProcesses:
		err = when(b == BackendKubernetes, ErrNoHostPID)
	case FeatureBench:
		err = when(b != BackendLocal && b != BackendNetns && b != BackendKubernetes, ErrBenchBackend)
	case FeatureHostCommands:
		err = when(b != BackendLocal && b != BackendNetns, ErrNoHostCommands)
	default:
		err = fmt.Errorf("lab: unknown feature %d", f)
	}
	if err != nil {
		return fmt.Errorf("%w (this run: %q)", err, string(b))
	}
	return nil
}

func when(cond bool, err error) error {
	if cond {
		return err
	}
	return nil
}
