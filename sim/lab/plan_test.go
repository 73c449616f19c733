package lab

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLoadPlan(t *testing.T) {
	p, err := LoadPlan(PlanFiles{Topology: "../../topologies/single-site.yaml"}, BackendLocal)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Tenants) != 1 || len(p.Devices) == 0 || p.Tenants[0].ID == "" {
		t.Fatalf("plan of single-site: %d tenants, %d devices", len(p.Tenants), len(p.Devices))
	}
	for _, d := range p.Devices {
		if d.Profile == nil || d.Tenant != p.Tenants[0].ID {
			t.Fatalf("device %+v: no profile or not in the tenant", d)
		}
	}

	_, err = LoadPlan(PlanFiles{Topology: "../../topologies/two-sites-wan.yaml"}, BackendLocal)
	if !errors.Is(err, ErrNeedsNetns) || !strings.Contains(err.Error(), "two-sites-wan.yaml") {
		t.Fatalf("impaired links on loopback: %v, want ErrNeedsNetns naming the file", err)
	}
	wan, err := LoadPlan(PlanFiles{Topology: "../../topologies/two-sites-wan.yaml"}, BackendNetns)
	if err != nil {
		t.Fatal(err)
	}
	impaired := 0
	for _, d := range wan.Devices {
		if !d.Options.Link.IsZero() {
			impaired++
		}
	}
	if impaired == 0 {
		t.Fatal("two-sites-wan on netns: no device link is impaired")
	}
	ign, err := LoadPlan(PlanFiles{Topology: "../../topologies/two-sites-wan.yaml", IgnoreLinks: true}, BackendLocal)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ign.Devices {
		if !d.Options.Link.IsZero() {
			t.Fatalf("--ignore-links kept %s's impairment", d.Profile.Name)
		}
	}

	files, err := LoadPlan(PlanFiles{Tenant: "../../fixtures/tenants/strict.yaml", Devices: []string{"../../fixtures/devices/admin-win-4.5.yaml"}}, "")
	if err != nil || len(files.Devices) != 1 || files.Devices[0].Profile.Name != "admin-win-4.5" {
		t.Fatalf("plan from files: %+v, %v", files.Devices, err)
	}
	if _, err := LoadPlan(PlanFiles{}, ""); err == nil {
		t.Fatal("a plan with neither topology nor tenant was accepted")
	}
}

// TestLoadPlanPlacesSites: a topology's sites become node selectors under
// the names the lab places machines by (the device's for an agent, the
// connector's for it and its app servers); a machine without a site is
// not named, so it goes onto any node.
func TestLoadPlanPlacesSites(t *testing.T) {
	fx, err := filepath.Abs("../../fixtures")
	if err != nil {
		t.Fatal(err)
	}
	top := filepath.Join(t.TempDir(), "sited.yaml")
	yaml := `name: sited
tenant: ` + fx + `/tenants/shared-namespace.yaml
sites:
  hq: {nodeSelector: {topology.kubernetes.io/region: eu-west-1}}
  dc: {nodeSelector: {c2clab.io/rack: r2}}
nodes:
  - {name: broker, role: broker, site: dc}
  - {name: admin, role: agent, device: ` + fx + `/devices/admin-win-4.5.yaml, site: hq}
  - {name: branch-linux, role: agent, device: ` + fx + `/devices/linux-1.4.yaml}
  - name: dc-connector
    role: connector
    site: dc
    serverGroups: [srv-dc1]
    apps:
      - {fqdn: intranet.example.com, services: [{kind: echo, port: 443}]}
      - {fqdn: wiki.example.com, services: [{kind: echo, port: 443}]}
`
	if err := os.WriteFile(top, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := LoadPlan(PlanFiles{Topology: top}, BackendKubernetes)
	if err != nil {
		t.Fatal(err)
	}
	hq := map[string]string{"topology.kubernetes.io/region": "eu-west-1"}
	dc := map[string]string{"c2clab.io/rack": "r2"}
	want := map[string]map[string]string{p.Devices[0].Profile.Name: hq, "broker": dc,
		"dc-connector": dc, "dc-connector-app1": dc, "dc-connector-app2": dc}
	if !reflect.DeepEqual(p.NodeSelectors, want) {
		t.Errorf("node selectors %v, want %v", p.NodeSelectors, want)
	}
	if _, ok := p.NodeSelectors[p.Devices[1].Profile.Name]; ok {
		t.Errorf("%s has no site but a node selector", p.Devices[1].Profile.Name)
	}
}
