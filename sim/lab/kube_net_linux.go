package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/c2clab/c2clab/sim/kube/kubenet"
)

// kubeLAN is the run's lab network on the cluster: the lab's CNI network
// (a topology's network.cni) as a NetworkAttachmentDefinition, and each
// machine on net1 at the next address of its subnet, a static address
// the placer picks (kubenet.AttachConfig says why not the config's IPAM).
type kubeLAN struct {
	name   string // the NAD's
	cni    []byte // the lab's config list, as it was given
	prefix netip.Prefix

	mu   sync.Mutex // guards pool
	pool kubenet.Pool
}

// kubeNetwork decides the run's network, in this one place: the lab's own
// network as a NAD when it has one (cni) and the cluster has the NAD CRD
// (hasNADs, asked only then); the cluster's Pod network alone (nil) when
// the lab has none or podNetwork forces it. A lab network the cluster
// cannot make is refused, never dropped: podNetwork is how the user says
// to drop it.
func kubeNetwork(cni []byte, podNetwork bool, hasNADs func() (bool, error)) (*kubeLAN, error) {
	if cni == nil || podNetwork {
		return nil, nil
	}
	name := kubenet.NetworkName(cni)
	prefix, err := kubenet.Subnet(cni)
	if err != nil {
		return nil, fmt.Errorf("lab: kubernetes backend: network %q: %w", name, err)
	}
	if _, err := kubenet.AttachConfig(cni); err != nil {
		return nil, fmt.Errorf("lab: kubernetes backend: network %q: %w", name, err)
	}
	ok, err := hasNADs()
	if err != nil {
		return nil, fmt.Errorf("lab: kubernetes backend: %w", err)
	}
	if !ok {
		return nil, fmt.Errorf("%w: the lab's network %q needs it for net1; install Multus, or give --pod-network (KubeSpec.PodNetwork) to put every machine on the cluster's Pod network instead, without that network", ErrNoNADCRD, name)
	}
	return &kubeLAN{name: name, cni: cni, prefix: prefix, pool: kubenet.Pool{Prefix: prefix}}, nil
}

func (n *kubeLAN) next() (netip.Addr, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	a, err := n.pool.Next()
	if err != nil {
		return netip.Addr{}, fmt.Errorf("lab: kubernetes backend: %w", err)
	}
	return a, nil
}

// createNAD makes the run's NetworkAttachmentDefinition.
func (p *kubePlacer) createNAD(ctx context.Context) error {
	nad, err := kubenet.NAD(p.lan.name, p.runID, p.labels(), p.lan.cni)
	if err != nil {
		return err
	}
	if _, err := p.dyn.Resource(kubenet.NADResource).Namespace(p.runID).Create(ctx, nad, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("lab: kubernetes backend: network attachment %q: %w", p.lan.name, err)
	}
	return nil
}

// attach puts the machine's Pod on the lab network at addr (nothing on
// the Pod network alone), and, on a cluster without DNS, gives it the
// broker's name as a host alias once the broker runs.
func (p *kubePlacer) attach(pod *corev1.Pod, addr netip.Addr) error {
	if p.lan != nil {
		sel, err := kubenet.Networks(p.lan.name, addr, p.lan.prefix)
		if err != nil {
			return fmt.Errorf("lab: kubernetes backend: pod %q: %w", pod.Name, err)
		}
		pod.Annotations = map[string]string{kubenet.NetworksAnnotation: sel}
	}
	p.mu.Lock()
	ip := p.brokerIP
	p.mu.Unlock()
	if p.alias && ip.IsValid() {
		pod.Spec.HostAliases = append(pod.Spec.HostAliases, corev1.HostAlias{IP: ip.String(), Hostnames: p.brokerNames()})
	}
	return nil
}

// onLAN checks that Multus attached the Pod to the lab network at addr, by
// what it reported (the network-status annotation): a cluster with the
// CRD but without Multus running would start the Pod without net1, and
// its nodes could not listen on their address.
func onLAN(pod *corev1.Pod, addr netip.Addr) error {
	raw := pod.Annotations[kubenet.StatusAnnotation]
	var status []struct {
		Interface string   `json:"interface"`
		IPs       []string `json:"ips"`
	}
	if raw != "" {
		if err := json.Unmarshal([]byte(raw), &status); err != nil {
			return fmt.Errorf("lab: kubernetes backend: pod %q: its %s %q: %w", pod.Name, kubenet.StatusAnnotation, raw, err)
		}
	}
	for _, s := range status {
		if s.Interface == kubenet.LabInterface && slices.Contains(s.IPs, addr.String()) {
			return nil
		}
	}
	return fmt.Errorf("lab: kubernetes backend: pod %q runs without %s at %s (Multus reported %s %q): is Multus the cluster's CNI?", pod.Name, kubenet.LabInterface, addr, kubenet.StatusAnnotation, raw)
}

// brokerNames are the names the run's nodes dial the broker by, which its
// certificate carries: its Service's, short and fully qualified.
func (p *kubePlacer) brokerNames() []string {
	h := kubenet.BrokerHost(p.runID)
	return []string{h, h + ".cluster.local"}
}

// exposeBroker makes the broker, running on h with its nodes' ports,
// reachable by brokerNames: the Service, and on a cluster without DNS the
// broker Pod's address, which attach gives every later Pod as a host
// alias. Either way the nodes reach the broker on the cluster's network
// (eth0), which spans the cluster's nodes where a lab network may not.
func (p *kubePlacer) exposeBroker(ctx context.Context, h host, ports map[string]uint16) error {
	p.mu.Lock()
	m := p.machines[h.name]
	p.mu.Unlock()
	if m == nil {
		return fmt.Errorf("lab: kubernetes backend: broker %q: no such machine", h.name)
	}
	if _, err := p.core.Services(p.runID).Create(ctx, p.brokerService(h.name, ports), metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("lab: kubernetes backend: broker service: %w", err)
	}
	p.mu.Lock()
	p.brokerIP = m.podIP
	p.mu.Unlock()
	return nil
}

// brokerService is the broker's Service: its ports, to the Pod named pod.
func (p *kubePlacer) brokerService(pod string, ports map[string]uint16) *corev1.Service {
	sp := map[string]int32{}
	for name, port := range ports {
		sp[name] = int32(port)
	}
	return kubenet.Service(p.meta(""), map[string]string{kubeLabelRun: p.runID, kubeLabelMachine: pod}, sp)
}

// hasClusterDNS is asked once per run: whether the run's Pods resolve the
// broker's Service name, or need the host alias.
func (p *kubePlacer) hasClusterDNS(ctx context.Context) error {
	dns, err := kubenet.HasClusterDNS(ctx, p.core)
	if err != nil {
		return fmt.Errorf("lab: kubernetes backend: %w", err)
	}
	p.alias = !dns
	return nil
}
