package topology

import (
	"errors"
	"strings"
	"testing"

	"github.com/c2clab/c2clab/sim/configfile"
)

// topHead is a valid start: a name and the one broker.
const topHead = "name: t\nnodes:\n  - {name: broker, role: broker}\n"

// cniHead starts a CNI config list with one bridge plugin whose IPAM
// follows.
const cniHead = topHead + "network:\n  cni:\n    cniVersion: 1.0.0\n    name: n\n    plugins:\n      - type: bridge\n        ipam:\n"

// badInputs are topology files a user gets wrong, each with the error it
// must give: FILE:LINE: FIELD: what is wrong and what is accepted. They
// complement TestErrorsNameFileLineField and seed FuzzParse.
var badInputs = []struct {
	name, in, want string
}{
	{"nodes not a list", "name: t\nnodes: broker\n", `t.yaml:2: nodes: is "broker", want a list`},
	{"link not a mapping", topHead + "  - {name: c, role: connector, serverGroups: [s], link: 50mbit}\n",
		`t.yaml:4: nodes[1].link: is "50mbit", want a mapping with fields rate, delay, jitter, loss`},
	{"rate not a number", topHead + "  - {name: c, role: connector, serverGroups: [s], link: {rate: NaNmbit}}\n",
		`t.yaml:4: nodes[1].link: rate "NaNmbit": want a number with unit bit, kbit, mbit or gbit, from 1bit to 1000gbit`},
	{"rate too high", topHead + "  - {name: c, role: connector, serverGroups: [s], link: {rate: 1e30gbit}}\n",
		`t.yaml:4: nodes[1].link: rate "1e30gbit": want`},
	{"rate under one bit", topHead + "  - {name: c, role: connector, serverGroups: [s], link: {rate: 0.5bit}}\n",
		`t.yaml:4: nodes[1].link: rate "0.5bit": want`},
	{"rate in bytes", topHead + "  - {name: c, role: connector, serverGroups: [s], link: {rate: 50mbps}}\n",
		`t.yaml:4: nodes[1].link: rate "50mbps": want`},
	{"loss not a number", topHead + "  - {name: c, role: connector, serverGroups: [s], link: {loss: NaN%}}\n",
		`t.yaml:4: nodes[1].link: loss "NaN%": want a percentage from 0% to 100%`},
	{"loss without percent", topHead + "  - {name: c, role: connector, serverGroups: [s], link: {loss: 0.5}}\n",
		`t.yaml:4: nodes[1].link: loss "0.5": want a percentage`},
	{"negative delay", topHead + "  - {name: c, role: connector, serverGroups: [s], link: {delay: -1ms}}\n",
		`t.yaml:4: nodes[1].link: delay "-1ms": want a duration from 0 to 10s`},
	{"delay over 10s", topHead + "  - {name: c, role: connector, serverGroups: [s], link: {delay: 11s}}\n",
		`t.yaml:4: nodes[1].link: delay "11s": want a duration from 0 to 10s`},
	{"delay without unit", topHead + "  - {name: c, role: connector, serverGroups: [s], link: {delay: 20}}\n",
		`t.yaml:4: nodes[1].link: delay "20": want a duration`},
	{"no name", "nodes:\n  - {name: broker, role: broker}\n", "t.yaml:1: name: is missing"},
	{"no broker", "name: t\nnodes: []\n", "t.yaml:2: nodes: has 0 nodes with role broker; want exactly one"},
	{"connector without server groups", topHead + "  - {name: c, role: connector}\n", "t.yaml:4: nodes[1].serverGroups: is empty"},
	{"app without fqdn", topHead + "  - {name: c, role: connector, serverGroups: [s], apps: [{services: []}]}\n", "t.yaml:4: nodes[1].apps[0].fqdn: is missing"},
	{"device on a broker", "name: t\nnodes:\n  - {name: broker, role: broker, device: d.yaml}\n", "t.yaml:3: nodes[0].device: is set on a broker"},
	{"name too long", topHead + "  - {name: a-name-longer-than-24-chars, role: connector, serverGroups: [s]}\n", `t.yaml:4: nodes[1].name: is "a-name-longer-than-24-chars"; want 1-24 lowercase letters`},
	{"cni without version", topHead + "network:\n  cni:\n    name: n\n    plugins: [{type: bridge}]\n", "t.yaml:6: network.cni.cniVersion: is missing"},
	{"cni plugin without type", topHead + "network:\n  cni:\n    cniVersion: 1.0.0\n    name: n\n    plugins: [{ipam: {}}]\n", "t.yaml:8: network.cni.plugins[0].type: is missing"},
	{"cni subnet not a prefix", cniHead + "          subnet: 198.18.7.0\n", `t.yaml:11: network.cni.plugins[0].ipam.subnet: is "198.18.7.0"; want a subnet inside 198.18.0.0/15`},
	{"cni ranges outside the lab", cniHead + "          ranges: [[{subnet: 10.1.0.0/24}]]\n", `t.yaml:11: network.cni.plugins[0].ipam.ranges[0][0].subnet: is "10.1.0.0/24"; want a subnet inside 198.18.0.0/15`},
	{"cni range without subnet", cniHead + "          ranges: [[{gateway: 198.18.7.1}]]\n", `t.yaml:11: network.cni.plugins[0].ipam.ranges[0][0].subnet: is missing; want a subnet inside`},
	{"cni bad gateway", cniHead + "          subnet: 198.18.7.0/24\n          gateway: 198.18.7.300\n", `t.yaml:12: network.cni.plugins[0].ipam.gateway: is "198.18.7.300"; want an address`},
	{"cni value JSON cannot hold", cniHead + "          subnet: 198.18.7.0/24\n        mtu: .nan\n", "t.yaml:6: network.cni: cannot be written as JSON for CNI: json: unsupported value: NaN"},
	{"cni key that is not a string", cniHead + "          subnet: 198.18.7.0/24\n        [a]: 1\n", "t.yaml: invalid map key"},
	{"duplicate key", "name: t\nname: u\nnodes:\n  - {name: broker, role: broker}\n", `t.yaml:2: name: mapping key "name" already defined at line 1`},
	{"empty file", "", "t.yaml: file is empty"},
}

// TestBadInputNamesFileLineField checks each bad input's error.
func TestBadInputNamesFileLineField(t *testing.T) {
	for _, tt := range badInputs {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse("t.yaml", []byte(tt.in), fakeDevice)
			if err == nil {
				t.Fatal("loaded without error")
			}
			var ce *configfile.Error
			if !errors.As(err, &ce) {
				t.Fatalf("err %T is not a *configfile.Error: %v", err, err)
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if strings.HasPrefix(line, tt.want) {
					return
				}
			}
			t.Fatalf("no error line starts with %q; got:\n%v", tt.want, err)
		})
	}
}
