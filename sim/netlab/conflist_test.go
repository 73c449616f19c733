package netlab

import (
	"encoding/json"
	"errors"
	"net/netip"
	"testing"
)

func TestPrepareConfList(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		wantErr error // nil: no error; errAny: any error
		subnet  string
		gateway string
		bridge  string
	}{
		{name: "default", raw: string(defaultConfList(netip.MustParsePrefix("198.18.7.0/24"))),
			subnet: "198.18.7.0/24", gateway: "198.18.7.1", bridge: "c2abcdefb0"},
		{name: "bridge renamed, legacy subnet form",
			raw:    `{"cniVersion":"1.0.0","name":"x","plugins":[{"type":"bridge","bridge":"br0","isGateway":true,"ipam":{"type":"host-local","subnet":"198.19.4.0/24","gateway":"198.19.4.254"}}]}`,
			subnet: "198.19.4.0/24", gateway: "198.19.4.254", bridge: "c2abcdefb0"},
		{name: "outside lab range",
			raw:     `{"cniVersion":"1.0.0","plugins":[{"type":"ptp","ipam":{"type":"host-local","subnet":"10.0.0.0/24"}}]}`,
			wantErr: ErrAddressRange},
		{name: "wider than lab range",
			raw:     `{"cniVersion":"1.0.0","plugins":[{"type":"ptp","ipam":{"type":"host-local","subnet":"198.16.0.0/12"}}]}`,
			wantErr: ErrAddressRange},
		{name: "no cniVersion", raw: `{"plugins":[{"type":"bridge"}]}`, wantErr: errAny},
		{name: "no plugins", raw: `{"cniVersion":"1.0.0"}`, wantErr: errAny},
		{name: "not json", raw: `{`, wantErr: errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, spec, err := prepareConfList([]byte(tt.raw), "c2cabcdef-lan", "c2abcdefb0", "/run/x/ipam")
			if tt.wantErr != nil {
				if err == nil || (tt.wantErr != errAny && !errors.Is(err, tt.wantErr)) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if spec.subnet.String() != tt.subnet || spec.gateway.String() != tt.gateway || spec.bridge != tt.bridge {
				t.Errorf("spec = %v %v %q, want %s %s %q", spec.subnet, spec.gateway, spec.bridge, tt.subnet, tt.gateway, tt.bridge)
			}
			var got struct {
				Name    string `json:"name"`
				Plugins []struct {
					Bridge string `json:"bridge"`
					IPAM   struct {
						DataDir string `json:"dataDir"`
					} `json:"ipam"`
				} `json:"plugins"`
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatal(err)
			}
			if got.Name != "c2cabcdef-lan" || got.Plugins[0].Bridge != tt.bridge || got.Plugins[0].IPAM.DataDir != "/run/x/ipam" {
				t.Errorf("prepared list = %s", out)
			}
		})
	}
}

var errAny = errors.New("any error")

func TestSubnetCandidate(t *testing.T) {
	seen := map[netip.Prefix]bool{}
	for k := range subnetSlots {
		p := subnetCandidate("c2c123abc", 0, k)
		if !labRange.Contains(p.Addr()) || p.Bits() != 24 || p != p.Masked() {
			t.Fatalf("candidate %d = %s, not a /24 in %s", k, p, labRange)
		}
		seen[p] = true
	}
	if len(seen) != subnetSlots {
		t.Errorf("%d distinct candidates, want %d", len(seen), subnetSlots)
	}
}

func TestNames(t *testing.T) {
	tests := []struct {
		name, ns, link, alias, fwLine string
		want                          string
	}{
		{name: "namespace", ns: "c2c1a2b3c-admin", want: "c2c1a2b3c"},
		{name: "bridge", link: bridgeName("c2c1a2b3c", 12), want: "c2c1a2b3c"},
		{name: "veth alias", link: "veth1234", alias: "c2c1a2b3c-admin/eth0", want: "c2c1a2b3c"},
		{name: "emulator namespace", ns: emuNSName("c2c1a2b3c", "admin", "lan"), want: "c2c1a2b3c"},
		{name: "emulator port", link: emuPortName("c2c1a2b3c", 3), want: "c2c1a2b3c"},
		{name: "foreign bridge", link: "docker0"},
		{name: "foreign c2 link", link: "c2abcdefx0"},
		{name: "foreign namespace", ns: "c2c-other"},
		{name: "upper-case hex", ns: "c2c1A2B3C-admin"},
		{name: "firewall rule", fwLine: `-A FORWARD -s 198.18.0.0/15 -d 198.18.0.0/15 -m comment --comment "c2clab:c2c1a2b3c" -j ACCEPT`, want: "c2c1a2b3c"},
		{name: "foreign rule", fwLine: `-A FORWARD -m comment --comment "c2clab:docker" -j ACCEPT`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			switch {
			case tt.ns != "":
				got = runIDOfNS(tt.ns)
			case tt.fwLine != "":
				got = fwRuleRunID(tt.fwLine)
			default:
				got = runIDOfLink(tt.link, tt.alias)
			}
			if got != tt.want {
				t.Errorf("run id = %q, want %q", got, tt.want)
			}
		})
	}
	for _, b := range []string{bridgeName("c2cffffff", 99999), emuPortName("c2cffffff", 99999)} {
		if len(b) > 15 {
			t.Errorf("link name %q longer than IFNAMSIZ-1", b)
		}
	}
}
