package topology

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestShippedTopologiesLoad(t *testing.T) {
	files, err := filepath.Glob("../../topologies/*.yaml")
	if err != nil || len(files) < 3 {
		t.Fatalf("want at least 3 topologies, got %v (%v)", files, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			top, err := Load(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range top.Nodes {
				if n.Role == RoleAgent && (n.Profile == nil || n.Profile.Name != n.Name) {
					t.Errorf("node %q: device profile not loaded under the node's name", n.Name)
				}
			}
			if top.TenantPath() == "" {
				t.Error("no tenant")
			}
		})
	}
}

func TestLinkParsing(t *testing.T) {
	top, err := Load("../../topologies/two-sites-wan.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var l Link
	for _, n := range top.Nodes {
		if n.Name == "branch-win" {
			l = n.Link
		}
	}
	if l.RateBits != 50e6 || l.DelayDur != 20*time.Millisecond || l.JitterDur != 2*time.Millisecond || l.LossPercent != 0.5 || !l.Impaired() {
		t.Fatalf("branch-win link = %+v, want 50mbit, 20ms, 2ms, 0.5%%", l)
	}
	if cfg, err := top.CNIConfig(); err != nil || !strings.Contains(string(cfg), `"198.18.7.0/24"`) {
		t.Fatalf("CNI config = %s, %v", cfg, err)
	}
}

func TestErrorsNameFileLineField(t *testing.T) {
	const head = "name: t\nnodes:\n  - {name: broker, role: broker}\n"
	tests := []struct {
		name, in, want string
	}{
		{"unknown role", head + "  - {name: x, role: router}\n", `t.yaml:4: nodes[1].role: is "router"; want broker, agent or connector`},
		{"duplicate name", head + "  - {name: broker, role: broker}\n", `t.yaml:4: nodes[1].name: "broker" is also nodes[0]`},
		{"two brokers", head + "  - {name: b2, role: broker}\n", "want exactly one"},
		{"agent without device", head + "  - {name: a, role: agent}\n", "t.yaml:4: nodes[1].device: is missing"},
		{"bad name", head + "  - {name: Bad_Name, role: broker}\n", "t.yaml:4: nodes[1].name"},
		{"bad rate", head + "  - {name: c, role: connector, serverGroups: [s], link: {rate: fast}}\n", `t.yaml:4: nodes[1].link: rate "fast": want a number with unit bit, kbit, mbit or gbit, from 1bit to 1000gbit`},
		{"bad loss", head + "  - {name: c, role: connector, serverGroups: [s], link: {loss: 150%}}\n", `loss "150%"`},
		{"jitter over delay", head + "  - {name: c, role: connector, serverGroups: [s], link: {delay: 1ms, jitter: 5ms}}\n", "jitter 5ms is larger than delay 1ms"},
		{"subnet outside the lab range", head + "network:\n  cni:\n    cniVersion: 1.0.0\n    name: n\n    plugins:\n      - {type: bridge, ipam: {type: host-local, subnet: 10.0.0.0/24}}\n",
			`network.cni.plugins[0].ipam.subnet: is "10.0.0.0/24"; want a subnet inside 198.18.0.0/15`},
		{"unknown field", head + "  - {name: c, role: connector, serverGroups: [s], speed: 1}\n", "t.yaml:4: nodes[1].speed"},
		{"missing device file", head + "  - {name: a, role: agent, device: nope.yaml}\n", "t.yaml:4: nodes[1].device"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v\nwant it to contain %q", err, tt.want)
			}
		})
	}
}
