package lab

import (
	"errors"
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
