package kube

import (
	"net/netip"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/c2clab/c2clab/sim/kube/kubenet"
)

// NADResource is Multus' NetworkAttachmentDefinition resource.
var NADResource = kubenet.NADResource

// NADCRD returns the NetworkAttachmentDefinition CRD (kubenet/crd).
func NADCRD() (*unstructured.Unstructured, error) { return kubenet.NADCRD() }

// Subnet returns the subnet of a CNI config list's IPAM (kubenet.Subnet).
func Subnet(conflist []byte) (netip.Prefix, error) { return kubenet.Subnet(conflist) }

func (p Plan) nad(ns string) (*unstructured.Unstructured, error) {
	return kubenet.NAD(p.Network.Name, ns, p.meta(p.Network.Name, ns).Labels, p.Network.CNI)
}
