package netlab

import (
	"encoding/json"
	"net/netip"
	"testing"

	"github.com/c2clab/c2clab/sim/topology"
)

// FuzzPrepareConfList feeds prepareConfList any CNI configuration list. It
// must never panic, and a list it accepts must come out as JSON that names
// the run's network, bridge and IPAM directory, with every subnet inside the
// lab's range. It also checks the topology loader against it: a CNI config
// that a topology file may carry (topology.Parse accepts it, with its
// file:line errors) must not be refused later by the lab, when only a bare
// error is left.
//
//	go test -run '^$' -fuzz '^FuzzPrepareConfList$' -fuzztime 30s ./sim/netlab
func FuzzPrepareConfList(f *testing.F) {
	f.Add(defaultConfList(netip.MustParsePrefix("198.18.7.0/24")))
	for _, s := range []string{
		`{"cniVersion":"1.0.0","name":"x","plugins":[{"type":"bridge","bridge":"br0","isGateway":true,"ipam":{"type":"host-local","subnet":"198.19.4.0/24","gateway":"198.19.4.254"}}]}`,
		`{"cniVersion":"1.0.0","name":"x","plugins":[{"type":"ptp","ipam":{"type":"host-local","ranges":[[{"subnet":"10.0.0.0/24"}]]}}]}`,
		`{"cniVersion":"1.0.0","name":"x","plugins":[{"type":"bridge","ipam":{"type":"host-local","ranges":[[{"subnet":"198.18.1.0/24","gateway":"x"}]]}}]}`,
		`{"cniVersion":"1.0.0","name":"x","plugins":[{"type":"bridge","ipam":{"subnet":"198.18.1.0/24"}},{"type":"bandwidth"}]}`,
		`{"cniVersion":"1.0.0","name":"x","plugins":[7]}`,
		`{"cniVersion":"1.0.0","name":"x","plugins":[{"type":"bridge","ipam":{"ranges":[[{}]]}}]}`,
		`{"cniVersion":"1.0.0","name":"x","plugins":[{"type":"bridge","ipam":{"subnet":"198.18.0.5/15"}}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		out, spec, err := prepareConfList(raw, "c2cabcdef-lan", "c2abcdefb0", "/run/x/ipam")
		if err == nil {
			checkPrepared(t, raw, out, spec)
		}
		top := `{"name": "t", "nodes": [{"name": "broker", "role": "broker"}], "network": {"cni": ` + string(raw) + `}}`
		tp, terr := topology.Parse("t.json", []byte(top))
		if terr != nil {
			return
		}
		cfg, cerr := tp.CNIConfig()
		if cerr != nil || cfg == nil {
			return // an empty config: the lab uses its default
		}
		if _, _, err := prepareConfList(cfg, "c2cabcdef-lan", "c2abcdefb0", "/run/x/ipam"); err != nil {
			t.Fatalf("topology accepted CNI config %s, which the lab refuses: %v", cfg, err)
		}
	})
}

func checkPrepared(t *testing.T, raw, out []byte, spec netSpec) {
	t.Helper()
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("prepared %q into %q, which is not a config list: %v", raw, out, err)
	}
	if got["name"] != "c2cabcdef-lan" {
		t.Fatalf("prepared list is named %v", got["name"])
	}
	plugins, _ := got["plugins"].([]any)
	for i, p := range plugins {
		m, _ := p.(map[string]any)
		if m["type"] == "bridge" && m["bridge"] != "c2abcdefb0" {
			t.Fatalf("plugins[%d] bridges %v", i, m["bridge"])
		}
		if ipam, _ := m["ipam"].(map[string]any); ipam["type"] == "host-local" && ipam["dataDir"] != "/run/x/ipam" {
			t.Fatalf("plugins[%d] keeps IPAM state in %v", i, ipam["dataDir"])
		}
	}
	if spec.subnet.IsValid() && (!labRange.Contains(spec.subnet.Addr()) || spec.subnet.Bits() < labRange.Bits()) {
		t.Fatalf("accepted subnet %s outside %s", spec.subnet, labRange)
	}
}
