// Package kube lays a whole topology out on a Kubernetes cluster at once
// and finds the runs there: Plan and Build turn every machine into a Pod
// (a container per node), the topology's CNI network into a Multus
// NetworkAttachmentDefinition and the broker into a Service (sim/kube/kubenet,
// the mapping the commands' placer in sim/lab shares), all in one
// namespace per run, named and labelled with the run ID; Cluster creates
// them, waits for them, and lists and deletes runs by that label (`lab
// down --backend kubernetes`).
//
// No command runs a lab from a Plan: `lab up` and `test` use sim/lab's
// placer, which starts nodes one at a time. The plan remains for what it
// proves at scale, the 1,000-device placement on kwok nodes, and its
// apiserver test; building (Build) is pure and separate from talking to
// a cluster (Cluster), so the mapping is tested without one.
package kube

import (
	"net/netip"

	"github.com/c2clab/c2clab/sim/kube/kubenet"
)

// Labels and annotations the backend puts on what it makes.
const (
	// LabelRun carries the run ID on the namespace and every object in it;
	// `c2clab lab down --all` lists namespaces by it.
	LabelRun = "c2clab.io/run"
	// LabelMachine, LabelRole and LabelSite say what a Pod stands for.
	LabelMachine = "c2clab.io/machine"
	LabelRole    = "c2clab.io/role"
	LabelSite    = "c2clab.io/site"
	// AnnotationOwner on the namespace is HOST/PID of the process that
	// runs the lab, so lab down --all on that host can tell a crashed run.
	AnnotationOwner = "c2clab.io/owner"
	// labelManagedBy is the recommended label naming the tool.
	labelManagedBy = "app.kubernetes.io/managed-by"
	managedBy      = "c2clab"
)

// Backend is the kubernetes backend's name on the command line.
const Backend = "kubernetes"

// Roles of a machine's Pod.
const (
	RoleBroker    = "broker"
	RoleDevice    = "device"    // a device: its services and its agent
	RoleConnector = "connector" // an App Connector
	RoleApp       = "app"       // an app server behind a connector
)

// Plan is one run's lab on a cluster. The zero value is not usable: RunID,
// Image, Network and at least one machine are required.
type Plan struct {
	// RunID names the namespace and labels everything (lab.NewRunID).
	RunID string
	// Image is the c2clab image every container runs (sim/image's, or
	// one loaded from `c2clab image save`'s tar).
	Image string
	// PullPolicy is the containers' image pull policy; empty means
	// IfNotPresent, which uses an image loaded onto the nodes.
	PullPolicy string
	// Network is the lab network every machine is attached to.
	Network Network
	// Sites map a site name to the node labels its machines need.
	Sites map[string]map[string]string
	// Machines are the lab's machines, broker first.
	Machines []Machine
}

// Network is the lab network as Multus sees it.
type Network struct {
	// Name is the NetworkAttachmentDefinition's name.
	Name string
	// CNI is the topology's CNI config list (JSON), carried verbatim
	// except for node-local IPAM; see attachConfig.
	CNI []byte
	// Prefix is the network's subnet; each machine's Addr is in it.
	Prefix netip.Prefix
}

// Machine is one machine of the lab: a Pod.
type Machine struct {
	Name string
	Role string
	// Site is a key of Plan.Sites; empty means any node.
	Site string
	// Addr is the machine's static address on the lab network.
	Addr netip.Addr
	// Nodes are the c2clab node processes it runs, one container each.
	Nodes []Node
	// Files are what its Secret holds (configs, certificates, keys),
	// mounted read-only at ConfigDir.
	Files map[string][]byte
	// Ports are the TCP ports it serves to other machines or the user,
	// by name (control, data, admin, socks, status).
	Ports map[string]int32
}

// Node is one c2clab node process: c2clab node ROLE --config FILE.
type Node struct {
	// Role is the node role (broker, services, agent, connector).
	Role string
	// Config is the name of its config file among the machine's Files.
	Config string
}

// Paths inside every container.
const (
	// ConfigDir is where a machine's Secret is mounted.
	ConfigDir = "/etc/c2clab"
	// readyDir is an emptyDir for the nodes' ready files.
	readyDir = "/run/c2clab"
)

// Namespace is the run's namespace name: the run ID itself, already a
// valid DNS label (c2c and 6 hex characters).
func Namespace(runID string) string { return runID }

// BrokerService is the broker's Service name, whatever the topology calls
// the broker machine: the agents' configs and the broker's certificate
// name it before any machine is placed.
const BrokerService = kubenet.BrokerService

// BrokerHost is the broker Service's name as the run's Pods dial it (its
// certificate carries it): broker.NAMESPACE.svc.
func BrokerHost(runID string) string { return kubenet.BrokerHost(Namespace(runID)) }
