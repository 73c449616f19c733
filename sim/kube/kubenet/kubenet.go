// Package kubenet is how a lab's machines find each other on Kubernetes:
// the topology's CNI network as a Multus NetworkAttachmentDefinition, the
// Pod annotation that attaches a machine to it at a static address, and
// the broker's Service. Both of the kubernetes backend's object builders
// use it (sim/lab's placer and sim/kube's plan), so the mapping is made
// once; it imports neither, since sim/kube's tests import sim/lab.
package kubenet

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"sigs.k8s.io/yaml"
)

// NADResource is Multus' NetworkAttachmentDefinition resource.
var NADResource = schema.GroupVersionResource{Group: "k8s.cni.cncf.io", Version: "v1", Resource: "network-attachment-definitions"}

// NetworksAnnotation is Multus' Pod annotation naming the attachments;
// StatusAnnotation is where Multus reports what it attached.
const (
	NetworksAnnotation = "k8s.v1.cni.cncf.io/networks"
	StatusAnnotation   = "k8s.v1.cni.cncf.io/network-status"
)

// LabInterface is the lab network's interface in every Pod.
const LabInterface = "net1"

// Selection is one element of the networks annotation (multi-net spec;
// see crd/README.md).
type Selection struct {
	Name      string   `json:"name"`
	Interface string   `json:"interface,omitempty"`
	IPs       []string `json:"ips,omitempty"`
}

// Networks is the networks annotation's value that attaches a Pod to the
// NAD named nad as LabInterface at addr, a static address in prefix.
func Networks(nad string, addr netip.Addr, prefix netip.Prefix) (string, error) {
	sel, err := json.Marshal([]Selection{{Name: nad, Interface: LabInterface, IPs: []string{netip.PrefixFrom(addr, prefix.Bits()).String()}}})
	return string(sel), err
}

//go:embed crd/network-attachment-definitions.yaml
var nadCRD []byte

// crdResource is where CRDs are created. The CRD stays unstructured: the
// typed one lives in k8s.io/apiextensions-apiserver, a module the size of
// an apiserver, for one object.
var crdResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// NADCRD returns the NetworkAttachmentDefinition CRD (crd/README.md), for
// clusters without Multus' own and for the tests' apiserver.
func NADCRD() (*unstructured.Unstructured, error) {
	var obj map[string]any
	if err := yaml.Unmarshal(nadCRD, &obj); err != nil {
		return nil, fmt.Errorf("kubenet: NAD CRD: %w", err)
	}
	return &unstructured.Unstructured{Object: obj}, nil
}

// InstallNADCRD creates the NetworkAttachmentDefinition CRD unless it
// exists, and waits until the apiserver serves it.
func InstallNADCRD(ctx context.Context, dyn dynamic.Interface) error {
	crd, err := NADCRD()
	if err != nil {
		return err
	}
	_, err = dyn.Resource(crdResource).Create(ctx, crd, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("kubenet: install NAD CRD: %w", err)
	}
	for {
		_, err := dyn.Resource(NADResource).Namespace(metav1.NamespaceDefault).List(ctx, metav1.ListOptions{Limit: 1})
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("kubenet: NAD CRD not served: %w", errors.Join(err, ctx.Err()))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// HasNADs reports whether the cluster serves NetworkAttachmentDefinitions
// (Multus' CRD is installed), by asking its discovery API.
func HasNADs(d discovery.DiscoveryInterface) (bool, error) {
	list, err := d.ServerResourcesForGroupVersion(NADResource.GroupVersion().String())
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("kubenet: discover %s: %w", NADResource.GroupVersion(), err)
	}
	return slices.ContainsFunc(list.APIResources, func(r metav1.APIResource) bool { return r.Name == NADResource.Resource }), nil
}

// HasClusterDNS reports whether the cluster runs a cluster DNS, by the
// Service every DNS add-on (CoreDNS, kube-dns) is reached at:
// kube-system/kube-dns. Without one a Pod cannot resolve the broker's
// Service name, and such a cluster usually has no Service proxy either
// (sim/kube/kubenode's one node has neither).
func HasClusterDNS(ctx context.Context, core corev1client.CoreV1Interface) (bool, error) {
	_, err := core.Services(metav1.NamespaceSystem).Get(ctx, "kube-dns", metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("kubenet: look for the cluster DNS (service kube-system/kube-dns): %w", err)
	}
	return true, nil
}

func validLabel(s string) bool { return len(validation.IsDNS1123Label(s)) == 0 }

// NAD is the NetworkAttachmentDefinition named name in namespace ns that
// carries conflist, the topology's CNI config list, as AttachConfig makes
// it.
func NAD(name, ns string, labels map[string]string, conflist []byte) (*unstructured.Unstructured, error) {
	cfg, err := AttachConfig(conflist)
	if err != nil {
		return nil, err
	}
	l := make(map[string]any, len(labels))
	for k, v := range labels {
		l[k] = v
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": NADResource.GroupVersion().String(),
		"kind":       "NetworkAttachmentDefinition",
		"metadata":   map[string]any{"name": name, "namespace": ns, "labels": l},
		"spec":       map[string]any{"config": string(cfg)},
	}}, nil
}

// AttachConfig is the topology's CNI config list as the NAD carries it:
// verbatim, except that every plugin's IPAM becomes the static plugin fed
// by the Pod's ips. The lab writes each machine's address into its nodes'
// configs, so addresses are the lab's to assign; and host-local, the
// lab's usual IPAM, keeps its pool on one node, so two nodes would hand
// out the same address.
func AttachConfig(conflist []byte) ([]byte, error) {
	var list map[string]any
	if err := json.Unmarshal(conflist, &list); err != nil {
		return nil, fmt.Errorf("kubenet: network CNI config: %w", err)
	}
	plugins, _ := list["plugins"].([]any)
	if len(plugins) == 0 {
		return nil, fmt.Errorf("kubenet: network CNI config has no plugins")
	}
	for i, pl := range plugins {
		m, ok := pl.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("kubenet: network CNI config: plugins[%d] is no object", i)
		}
		if _, has := m["ipam"]; !has {
			continue
		}
		m["ipam"] = map[string]any{"type": "static"}
		caps, _ := m["capabilities"].(map[string]any)
		if caps == nil {
			caps = map[string]any{}
		}
		caps["ips"] = true
		m["capabilities"] = caps
	}
	return json.Marshal(list)
}

// Subnet returns the subnet of a CNI config list's IPAM: host-local's
// "subnet" or first range, whereabouts' or static's "range"/address. The
// kubernetes backend assigns addresses from it.
func Subnet(conflist []byte) (netip.Prefix, error) {
	var list struct {
		Plugins []struct {
			IPAM struct {
				Subnet    string                      `json:"subnet"`
				Range     string                      `json:"range"`
				Ranges    [][]struct{ Subnet string } `json:"ranges"`
				Addresses []struct{ Address string }  `json:"addresses"`
			} `json:"ipam"`
		} `json:"plugins"`
	}
	if err := json.Unmarshal(conflist, &list); err != nil {
		return netip.Prefix{}, fmt.Errorf("kubenet: network CNI config: %w", err)
	}
	for _, pl := range list.Plugins {
		cands := []string{pl.IPAM.Subnet, pl.IPAM.Range}
		if len(pl.IPAM.Ranges) > 0 && len(pl.IPAM.Ranges[0]) > 0 {
			cands = append(cands, pl.IPAM.Ranges[0][0].Subnet)
		}
		for _, a := range pl.IPAM.Addresses {
			cands = append(cands, a.Address)
		}
		for _, c := range cands {
			if p, err := netip.ParsePrefix(c); err == nil {
				return p.Masked(), nil
			}
		}
	}
	return netip.Prefix{}, fmt.Errorf("kubenet: network CNI config names no subnet in any plugin's ipam (subnet, ranges or range); the backend assigns addresses from it")
}

// NetworkName is the config list's name when it is a DNS label, as a NAD's
// name must be, else "lab".
func NetworkName(conflist []byte) string {
	var l struct{ Name string }
	if json.Unmarshal(conflist, &l) == nil && validLabel(l.Name) {
		return l.Name
	}
	return "lab"
}

// Pool hands out a subnet's addresses in order, skipping the network
// address and .1 (a bridge's gateway) and keeping the last (broadcast).
// The zero value is not usable: Prefix is required.
type Pool struct {
	Prefix netip.Prefix
	next   int // index of the next address in Prefix, from 2
}

// Next returns the next address, or an error once the subnet is used up.
func (p *Pool) Next() (netip.Addr, error) {
	p.next = max(p.next, 2)
	a := p.Prefix.Addr()
	for range p.next {
		a = a.Next()
	}
	p.next++
	if !p.Prefix.Contains(a) || !p.Prefix.Contains(a.Next()) {
		return netip.Addr{}, fmt.Errorf("kubenet: network %s has no address left for machine %d", p.Prefix, p.next-2)
	}
	return a, nil
}

// BrokerService is the broker's Service name, whatever the topology calls
// the broker machine: the agents' configs and the broker's certificate
// name it.
const BrokerService = "broker"

// BrokerHost is the broker Service's name as the Pods of namespace ns
// dial it (its certificate carries it, and BrokerHost+".cluster.local").
func BrokerHost(ns string) string { return BrokerService + "." + ns + ".svc" }

// Service is the broker's ClusterIP Service in meta's namespace: its
// ports by name, each to the same port of the Pods selector picks.
func Service(meta metav1.ObjectMeta, selector map[string]string, ports map[string]int32) *corev1.Service {
	meta.Name = BrokerService
	s := &corev1.Service{ObjectMeta: meta}
	s.Spec.Selector = selector
	for _, name := range slices.Sorted(maps.Keys(ports)) {
		port := ports[name]
		s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Name: name, Port: port, TargetPort: intstr.FromInt32(port), Protocol: corev1.ProtocolTCP})
	}
	return s
}
