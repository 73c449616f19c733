package netlab

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net/netip"
)

// netSpec is what the lab learnt from a configuration list.
type netSpec struct {
	subnet    netip.Prefix
	gateway   netip.Addr
	bridge    string // set when a bridge plugin is present
	isGateway bool   // bridge plugin gives the bridge the gateway address
}

// defaultConfList is the network AddNetwork uses when given none: a bridge
// that is the gateway (no masquerading: lab traffic never leaves the lab)
// and host-local IPAM on subnet.
func defaultConfList(subnet netip.Prefix) []byte {
	gw := subnet.Addr().Next()
	list := map[string]any{
		"cniVersion": "1.0.0",
		"plugins": []any{map[string]any{
			"type":      "bridge",
			"isGateway": true,
			"ipMasq":    false,
			"ipam": map[string]any{
				"type": "host-local",
				"ranges": []any{[]any{map[string]any{
					"subnet":  subnet.String(),
					"gateway": gw.String(),
				}}},
			},
		}},
	}
	b, err := json.Marshal(list)
	if err != nil {
		panic(err) // maps of strings and bools always marshal
	}
	return b
}

// prepareConfList rewrites a configuration list so it belongs to the run:
// the list's name becomes cniName, every bridge plugin gets bridge as its
// device and every host-local IPAM keeps its state in dataDir. It refuses
// subnets outside labRange.
func prepareConfList(raw []byte, cniName, bridge, dataDir string) ([]byte, netSpec, error) {
	var list map[string]any
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, netSpec{}, fmt.Errorf("conflist: %w", err)
	}
	if v, _ := list["cniVersion"].(string); v == "" {
		return nil, netSpec{}, errors.New("conflist: cniVersion: missing")
	}
	plugins, _ := list["plugins"].([]any)
	if len(plugins) == 0 {
		return nil, netSpec{}, errors.New("conflist: plugins: missing or empty")
	}
	list["name"] = cniName
	var spec netSpec
	for i, p := range plugins {
		plugin, ok := p.(map[string]any)
		if !ok {
			return nil, netSpec{}, fmt.Errorf("conflist: plugins[%d]: not an object", i)
		}
		if err := preparePlugin(plugin, bridge, dataDir, &spec); err != nil {
			return nil, netSpec{}, fmt.Errorf("conflist: plugins[%d]: %w", i, err)
		}
	}
	out, err := json.Marshal(list)
	if err != nil {
		return nil, netSpec{}, fmt.Errorf("conflist: %w", err)
	}
	return out, spec, nil
}

func preparePlugin(plugin map[string]any, bridge, dataDir string, spec *netSpec) error {
	if t, _ := plugin["type"].(string); t == "bridge" {
		plugin["bridge"] = bridge
		spec.bridge = bridge
		spec.isGateway, _ = plugin["isGateway"].(bool)
	}
	ipam, _ := plugin["ipam"].(map[string]any)
	if ipam == nil {
		return nil
	}
	if t, _ := ipam["type"].(string); t == "host-local" {
		ipam["dataDir"] = dataDir
	}
	return ipamRanges(ipam, spec)
}

// ipamRanges checks every subnet of an IPAM section ("subnet" or "ranges",
// the host-local forms) and records the first one.
func ipamRanges(ipam map[string]any, spec *netSpec) error {
	var ranges []map[string]any
	if _, ok := ipam["subnet"]; ok {
		ranges = append(ranges, ipam)
	}
	sets, _ := ipam["ranges"].([]any)
	for _, set := range sets {
		rs, _ := set.([]any)
		for _, r := range rs {
			if m, ok := r.(map[string]any); ok {
				ranges = append(ranges, m)
			}
		}
	}
	for _, r := range ranges {
		s, _ := r["subnet"].(string)
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return fmt.Errorf("ipam subnet %q: %w", s, err)
		}
		p = p.Masked()
		if !labRange.Contains(p.Addr()) || p.Bits() < labRange.Bits() {
			return fmt.Errorf("ipam subnet %q: %w", s, ErrAddressRange)
		}
		if spec.subnet.IsValid() {
			continue
		}
		spec.subnet = p
		spec.gateway = p.Addr().Next()
		if g, _ := r["gateway"].(string); g != "" {
			if spec.gateway, err = netip.ParseAddr(g); err != nil {
				return fmt.Errorf("ipam gateway %q: %w", g, err)
			}
		}
	}
	return nil
}

// subnetSlots is the number of /24 networks in labRange.
const subnetSlots = 512

// subnetCandidate returns the k-th /24 to try for the n-th network of run.
// Runs start at a slot derived from their ID so concurrent runs rarely probe
// the same subnets; the caller skips subnets already routed.
func subnetCandidate(runID string, n, k int) netip.Prefix {
	h := fnv.New32a()
	h.Write([]byte(runID))
	slot := (int(h.Sum32()%subnetSlots) + n + k) % subnetSlots
	a := labRange.Addr().As4()
	a[1] += byte(slot / 256)
	a[2] = byte(slot % 256)
	return netip.PrefixFrom(netip.AddrFrom4(a), 24)
}
