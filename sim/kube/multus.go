package kube

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/netip"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

// NADResource is Multus' NetworkAttachmentDefinition resource.
var NADResource = schema.GroupVersionResource{Group: "k8s.cni.cncf.io", Version: "v1", Resource: "network-attachment-definitions"}

// networksAnnotation is Multus' Pod annotation naming the attachments.
const networksAnnotation = "k8s.v1.cni.cncf.io/networks"

// labInterface is the lab network's interface in every Pod.
const labInterface = "net1"

// networkSelection is one element of the networks annotation (multi-net
// spec; see crd/README.md).
type networkSelection struct {
	Name      string   `json:"name"`
	Interface string   `json:"interface,omitempty"`
	IPs       []string `json:"ips,omitempty"`
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
		return nil, fmt.Errorf("kube: NAD CRD: %w", err)
	}
	return &unstructured.Unstructured{Object: obj}, nil
}

func (p Plan) nad(ns string) (*unstructured.Unstructured, error) {
	cfg, err := attachConfig(p.Network.CNI)
	if err != nil {
		return nil, err
	}
	meta := p.meta(p.Network.Name, ns)
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": NADResource.GroupVersion().String(),
		"kind":       "NetworkAttachmentDefinition",
		"metadata":   map[string]any{"name": meta.Name, "namespace": ns, "labels": toAny(meta.Labels)},
		"spec":       map[string]any{"config": string(cfg)},
	}}
	return u, nil
}

func toAny(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// attachConfig is the topology's CNI config list as the NAD carries it:
// verbatim, except that every plugin's IPAM becomes the static plugin fed
// by the Pod's ips. The lab writes each machine's address into its nodes'
// configs before any Pod starts, so addresses are the lab's to assign; and
// host-local, the lab's usual IPAM, keeps its pool on one node, so two
// nodes would hand out the same address.
func attachConfig(conflist []byte) ([]byte, error) {
	var list map[string]any
	if err := json.Unmarshal(conflist, &list); err != nil {
		return nil, fmt.Errorf("kube: network CNI config: %w", err)
	}
	plugins, _ := list["plugins"].([]any)
	if len(plugins) == 0 {
		return nil, fmt.Errorf("kube: network CNI config has no plugins")
	}
	for i, pl := range plugins {
		m, ok := pl.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("kube: network CNI config: plugins[%d] is no object", i)
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
		return netip.Prefix{}, fmt.Errorf("kube: network CNI config: %w", err)
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
	return netip.Prefix{}, fmt.Errorf("kube: network CNI config names no subnet in any plugin's ipam (subnet, ranges or range); the backend assigns addresses from it")
}
