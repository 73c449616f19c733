package kube

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/c2clab/c2clab/sim/agent"
	"github.com/c2clab/c2clab/sim/kube/kubenet"
	"github.com/c2clab/c2clab/sim/lab"
	"github.com/c2clab/c2clab/sim/tenant"
	"github.com/c2clab/c2clab/sim/topology"
)

const testRun = "c2c0a1b2c"

// wanLab plans topologies/two-sites-wan.yaml.
func wanLab(t *testing.T) (*topology.Topology, Lab) {
	t.Helper()
	top, l, err := planTopology(t, "two-sites-wan.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return top, l
}

// planTopology plans topologies/NAME with its own tenant; the error is the
// planner's, for tests of its refusals.
func planTopology(t *testing.T, name string) (*topology.Topology, Lab, error) {
	t.Helper()
	top, err := topology.Load("../../topologies/" + name)
	if err != nil {
		t.Fatal(err)
	}
	ten, _, err := tenant.Load(top.TenantPath())
	if err != nil {
		t.Fatal(err)
	}
	l, err := FromTopology(top, ten.Policy(), testRun, "c2clab:test")
	return top, l, err
}

func TestBuildMapsEveryMachineToAPod(t *testing.T) {
	top, l := wanLab(t)
	o, err := Build(l.Plan)
	if err != nil {
		t.Fatal(err)
	}
	if o.Namespace.Name != testRun || o.Namespace.Labels[LabelRun] != testRun {
		t.Errorf("namespace %q labels %v; want named and labelled %s", o.Namespace.Name, o.Namespace.Labels, testRun)
	}
	// The connector's one app server is a machine of its own.
	want := []string{"admin", "branch-linux", "branch-win", "broker", "dc-connector", "dc-connector-app1"}
	var got []string
	addrs := map[string]string{}
	for _, p := range o.Pods {
		got = append(got, p.Name)
		var sel []kubenet.Selection
		if err := json.Unmarshal([]byte(p.Annotations[kubenet.NetworksAnnotation]), &sel); err != nil || len(sel) != 1 {
			t.Fatalf("pod %s networks annotation %q: %v", p.Name, p.Annotations[kubenet.NetworksAnnotation], err)
		}
		pfx, err := netip.ParsePrefix(sel[0].IPs[0])
		if err != nil || !netip.MustParsePrefix("198.18.7.0/24").Contains(pfx.Addr()) || pfx.Bits() != 24 {
			t.Errorf("pod %s address %q; want one in the topology's 198.18.7.0/24", p.Name, sel[0].IPs[0])
		}
		if other, dup := addrs[sel[0].IPs[0]]; dup {
			t.Errorf("pods %s and %s share %s", p.Name, other, sel[0].IPs[0])
		}
		addrs[sel[0].IPs[0]] = p.Name
		for _, c := range p.Spec.Containers {
			if c.Image != "c2clab:test" || c.Command[0] != "/c2clab" || c.Command[2] != c.Name {
				t.Errorf("pod %s container %s runs %v from %s", p.Name, c.Name, c.Command, c.Image)
			}
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("pods %v; want %v (topology %s)", got, want, top.Path)
	}
	if len(o.Services) != 1 || o.Services[0].Name != "broker" || len(o.Services[0].Spec.Ports) != 3 {
		t.Errorf("services %v; want the broker's with control, data and admin", o.Services)
	}
}

// The agents dial BrokerHost before anything is placed, so the Service
// keeps that name when the topology calls its broker something else.
func TestBrokerServiceIsNamedAsAgentsDialIt(t *testing.T) {
	_, l := wanLab(t)
	for i, m := range l.Plan.Machines {
		if m.Role == RoleBroker {
			l.Plan.Machines[i].Name = "cloud"
		}
	}
	o, err := Build(l.Plan)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Services) != 1 {
		t.Fatalf("services %v; want the broker's only", o.Services)
	}
	s := o.Services[0]
	if host := BrokerHost(testRun); !strings.HasPrefix(host, s.Name+"."+s.Namespace+".") {
		t.Errorf("service %s/%s; the agents dial %s", s.Namespace, s.Name, host)
	}
	if s.Spec.Selector[LabelMachine] != "cloud" {
		t.Errorf("service selector %v; want the broker machine %q", s.Spec.Selector, "cloud")
	}
}

func TestNADCarriesTheCNIConfigWithStaticIPAM(t *testing.T) {
	_, l := wanLab(t)
	o, err := Build(l.Plan)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := o.NADs[0].Object["spec"].(map[string]any)["config"].(string)
	var got, orig map[string]any
	if err := json.Unmarshal([]byte(cfg), &got); err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(l.Plan.Network.CNI, &orig)
	pl := got["plugins"].([]any)[0].(map[string]any)
	if ipam := pl["ipam"].(map[string]any); ipam["type"] != "static" || len(ipam) != 1 {
		t.Errorf("ipam %v; want the static plugin alone, fed by the Pod's ips", ipam)
	}
	if caps := pl["capabilities"].(map[string]any); caps["ips"] != true {
		t.Errorf("capabilities %v; want ips", caps)
	}
	// Everything but the IPAM is the topology's, as it was.
	op := orig["plugins"].([]any)[0].(map[string]any)
	for k, v := range op {
		if k != "ipam" && !jsonEqual(pl[k], v) {
			t.Errorf("plugin field %q = %v; want the topology's %v", k, pl[k], v)
		}
	}
	if got["name"] != orig["name"] || got["cniVersion"] != orig["cniVersion"] {
		t.Errorf("config %v; want name and cniVersion of %v", got, orig)
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func TestAgentsReachTheBrokerByItsServiceName(t *testing.T) {
	_, l := wanLab(t)
	var broker, admin Machine
	for _, m := range l.Plan.Machines {
		switch m.Name {
		case "broker":
			broker = m
		case "admin":
			admin = m
		}
	}
	var cfg agent.Config
	if err := json.Unmarshal(admin.Files["agent.json"], &cfg); err != nil {
		t.Fatal(err)
	}
	svc := "broker." + testRun + ".svc"
	if !strings.HasPrefix(cfg.Broker.Control, svc+":") || !strings.HasPrefix(cfg.Broker.Data, svc+":") {
		t.Errorf("agent dials %+v; want the broker Service %s", cfg.Broker, svc)
	}
	if cfg.InterfaceIP != admin.Addr.String() || cfg.SOCKS != admin.Addr.String()+":1080" {
		t.Errorf("agent interface %s socks %s; want its machine's %s", cfg.InterfaceIP, cfg.SOCKS, admin.Addr)
	}
	block, _ := pem.Decode(broker.Files["broker.crt"])
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if err := cert.VerifyHostname(cfg.Broker.ServerName); err != nil {
		t.Errorf("broker certificate does not carry the name agents check: %v", err)
	}
	if err := cert.VerifyHostname(svc); err != nil {
		t.Errorf("broker certificate does not carry its Service name: %v", err)
	}
}

func TestSitesBecomeNodeSelectors(t *testing.T) {
	_, l := wanLab(t)
	l.Plan.Sites = map[string]map[string]string{"hq": {"topology.kubernetes.io/region": "eu-west"}}
	l.Plan.Machines[1].Site = "hq"
	o, err := Build(l.Plan)
	if err != nil {
		t.Fatal(err)
	}
	p := o.Pods[1]
	if p.Spec.NodeSelector["topology.kubernetes.io/region"] != "eu-west" || p.Labels[LabelSite] != "hq" {
		t.Errorf("pod %s selector %v labels %v; want the hq site's", p.Name, p.Spec.NodeSelector, p.Labels)
	}
	if o.Pods[0].Spec.NodeSelector != nil {
		t.Errorf("pod %s without a site has selector %v", o.Pods[0].Name, o.Pods[0].Spec.NodeSelector)
	}
}

func TestBuildRefusesWhatTheClusterWould(t *testing.T) {
	_, l := wanLab(t)
	cases := map[string]func(p *Plan){
		"run ID":       func(p *Plan) { p.RunID = "C2C_bad" },
		"unknown site": func(p *Plan) { p.Machines[0].Site = "mars" },
		"address":      func(p *Plan) { p.Machines[0].Addr = netip.MustParseAddr("198.19.0.1") },
		"two brokers":  func(p *Plan) { p.Machines[1].Role = RoleBroker },
		"no image":     func(p *Plan) { p.Image = "" },
		"machine name": func(p *Plan) { p.Machines[0].Name = "Broker" },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			p := l.Plan
			p.Machines = slices.Clone(l.Plan.Machines)
			mutate(&p)
			if _, err := Build(p); err == nil {
				t.Error("Build accepted it")
			}
		})
	}
}

func TestSubnet(t *testing.T) {
	cases := map[string]string{
		`{"plugins":[{"type":"bridge","ipam":{"type":"host-local","subnet":"198.18.7.0/24"}}]}`:                 "198.18.7.0/24",
		`{"plugins":[{"type":"macvlan","ipam":{"type":"host-local","ranges":[[{"subnet":"198.18.9.0/24"}]]}}]}`: "198.18.9.0/24",
		`{"plugins":[{"type":"macvlan","ipam":{"type":"whereabouts","range":"198.18.4.0/22"}}]}`:                "198.18.4.0/22",
	}
	for in, want := range cases {
		got, err := Subnet([]byte(in))
		if err != nil || got.String() != want {
			t.Errorf("Subnet(%s) = %v, %v; want %s", in, got, err, want)
		}
	}
	if _, err := Subnet([]byte(`{"plugins":[{"type":"bridge"}]}`)); err == nil {
		t.Error("Subnet of a config without IPAM: no error")
	}
}

// TestLabKnowsTheRunLabels: sim/lab's kubernetes placer labels its runs'
// namespaces with its own copy of these keys (it cannot import this
// package), so lab down --backend kubernetes --all finds a crashed suite's
// runs too only while the two agree.
func TestLabKnowsTheRunLabels(t *testing.T) {
	if lab.KubeLabelRun != LabelRun || lab.KubeAnnotationOwner != AnnotationOwner || lab.BackendKubernetes != Backend {
		t.Errorf("sim/lab has %q, %q, %q; sim/kube %q, %q, %q", lab.KubeLabelRun, lab.KubeAnnotationOwner, lab.BackendKubernetes, LabelRun, AnnotationOwner, Backend)
	}
}
