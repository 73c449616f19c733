package lab

import (
	"errors"
	"time"
)

// BackendKubernetes runs every machine as a Pod of a run's namespace on
// the cluster KubeSpec names, its nodes children of the machine process
// in the Pod (sim/machine); the runner reaches the Pods' addresses
// directly, so it runs on a node of the cluster or inside its network.
const BackendKubernetes = "kubernetes"

// kubeTimeout bounds a Pod's way to Running and the namespace's deletion.
const kubeTimeout = 2 * time.Minute

// KubeSpec configures BackendKubernetes.
type KubeSpec struct {
	// Kubeconfig names the cluster's kubeconfig file; empty finds the
	// cluster as kubectl does (KUBECONFIG, ~/.kube/config, in-cluster).
	Kubeconfig string
	// Context is the kubeconfig's context; empty means its current one.
	Context string
	// Image is a c2clab image the cluster's nodes hold or can pull (c2clab
	// image save, then kind load image-archive or ctr images import);
	// required.
	Image string
	// PullPolicy is the Pods' image pull policy; empty means IfNotPresent.
	PullPolicy string
	// NodeSelectors put machines, by name, onto the cluster's nodes whose
	// labels match (a topology's sites: Plan.NodeSelectors); a machine
	// not named goes onto any node.
	NodeSelectors map[string]map[string]string
	// PodNetwork puts every machine on the cluster's Pod network only,
	// even when the lab has a network of its own (Spec.CNIConfig, a
	// topology's network.cni) and the cluster could make it: no
	// NetworkAttachmentDefinition, no net1, each machine's address its
	// Pod's. Without it a lab network becomes a NAD (kube_net_linux.go).
	PodNetwork bool
	// AgentEntrypoint is the entrypoint of Spec.AgentImage, which the
	// lab starts with agent --config FILE --ready-file FILE: a cluster
	// does not tell an image's entrypoint (docker image inspect -f
	// '{{json .Config.Entrypoint}}' IMAGE does). Required with
	// Spec.AgentImage.
	AgentEntrypoint []string
	// LeaveNamespaceDeleting has Lab.Close return once every Pod of the
	// run is gone, every container stopped as the kubelet confirms, and
	// leave the emptied namespace to the namespace controller, which
	// deletes it and its API objects (Secret, ServiceAccount, Service,
	// NAD) after its fixed 5 s grace for every deleted namespace. Without
	// it Close waits those 5 s too. A caller that sets it waits for the
	// run's namespace itself before it says nothing is left (the kube
	// suite does, at its end: steps/kubesuite).
	LeaveNamespaceDeleting bool
	// OnAgentImage, if set, is called with the image ID the kubelet
	// reports for each container of Spec.AgentImage it ran (the Pod's
	// container status): the image that ran, whatever its tag names now.
	OnAgentImage func(imageID string)
}

// Labels and the annotation of the run's namespace: the same keys as
// sim/kube's (kube.LabelRun, kube.AnnotationOwner; a test there compares
// them), so `c2clab lab down --backend kubernetes --all` finds a crashed
// suite's runs too. sim/kube's tests import this package, so it cannot
// import sim/kube.
const (
	kubeLabelRun        = "c2clab.io/run"
	kubeLabelMachine    = "c2clab.io/machine"
	kubeAnnotationOwner = "c2clab.io/owner"
)

// KubeLabelRun and KubeAnnotationOwner are exported for that comparison.
const (
	KubeLabelRun        = kubeLabelRun
	KubeAnnotationOwner = kubeAnnotationOwner
)

// ErrNoHostPID is a kubernetes node's answer for its host PID: its Pod
// has a PID namespace of its own, and the runner may be on another node.
var ErrNoHostPID = errors.New("lab: on the kubernetes backend a node runs in its Pod's PID namespace, which the runner cannot see")

// ErrNoNADCRD is returned for the kubernetes backend when the lab has a
// network of its own but the cluster has no NetworkAttachmentDefinition
// CRD to make it with (Multus is not installed).
var ErrNoNADCRD = errors.New("lab: the cluster has no NetworkAttachmentDefinition CRD (k8s.cni.cncf.io/v1, Multus')")

// ErrNoCluster is returned for the kubernetes backend when no cluster is
// configured: no kubeconfig found, and not in a cluster.
var ErrNoCluster = errors.New("lab: the kubernetes backend finds no cluster")
