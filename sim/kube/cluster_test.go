package kube

import (
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/c2clab/c2clab/sim/device"
	"github.com/c2clab/c2clab/sim/kube/kubetest"
	"github.com/c2clab/c2clab/sim/tenant"
	"github.com/c2clab/c2clab/sim/topology"
)

func connect(t *testing.T, env *kubetest.Env) *Cluster {
	t.Helper()
	c, err := FromConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.InstallNADCRD(ctx); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestApiserverAcceptsTheWANLab creates every object of two-sites-wan on a
// real apiserver, reads the network back as Multus would, and proves that
// deleting the run leaves nothing.
func TestApiserverAcceptsTheWANLab(t *testing.T) {
	kubetest.Parallel(t)
	env := kubetest.Start(t, kubetest.Options{Controllers: true})
	c := connect(t, env)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, l := wanLab(t)
	o, err := Build(l.Plan)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deleteQuietly(c, testRun) })
	if err := c.Create(ctx, o); err != nil {
		t.Fatalf("the apiserver refused an object: %v", err)
	}
	nad, err := c.dynamic.Resource(NADResource).Namespace(testRun).Get(ctx, l.Plan.Network.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := nad.Object["spec"], o.NADs[0].Object["spec"]; !jsonEqual(got, want) {
		t.Errorf("stored NAD spec %v; want %v", got, want)
	}
	left, err := c.Left(ctx, testRun)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]int{"namespace": 1, "pods": len(o.Pods), "secrets": len(o.Secrets), "services": 1, "networks": 1}; !maps.Equal(left, want) {
		t.Errorf("on the cluster: %v; want %v", left, want)
	}
	runs, err := c.Runs(ctx)
	if err != nil || len(runs) != 1 || runs[0].ID != testRun {
		t.Errorf("runs by label: %v, %v; want just %s", runs, err, testRun)
	}
	assertGone(ctx, t, c, testRun)
}

// assertGone deletes the run and checks nothing of it is left.
func assertGone(ctx context.Context, t *testing.T, c *Cluster, runID string) {
	t.Helper()
	if err := c.Delete(ctx, runID); err != nil {
		t.Fatal(err)
	}
	left, err := c.Left(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	for kind, n := range left {
		if n != 0 {
			t.Errorf("after delete: %d %s left", n, kind)
		}
	}
	if runs, _ := c.Runs(ctx); len(runs) != 0 {
		t.Errorf("after delete: runs %v", runs)
	}
}

// sites of the scale topology: name, node count, region label.
var scaleSites = []struct {
	name   string
	nodes  int
	region string
}{{"eu", 20, "eu-west-1"}, {"us", 20, "us-east-1"}, {"ap", 10, "ap-south-1"}}

// TestPlacesAThousandDevicesOverFiftyNodes places a topology of 1,000
// devices in 3 sites onto 50 kwok nodes with the real scheduler, and
// checks every Pod is on a node of its site. It logs the time from the
// first create to the last Pod Running and Ready: the README's figure.
func TestPlacesAThousandDevicesOverFiftyNodes(t *testing.T) {
	kubetest.Parallel(t)
	if testing.Short() {
		t.Skip("-short: the 1,000-device placement takes tens of seconds")
	}
	env := kubetest.Start(t, kubetest.Options{Controllers: true, Scheduler: true, KWOK: true})
	if env.External {
		t.Skip("an existing cluster would run 1,003 real Pods: this test places them on kwok nodes only")
	}
	c := connect(t, env)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	regions := addNodes(ctx, t, env)
	top := scaleTopology(t, scaleDevices())
	ten, _, err := tenant.Load("../../fixtures/tenants/shared-namespace.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const run = "c2c5ca1e0"
	l, err := FromTopology(top, ten.Policy(), run, "c2clab:test")
	if err != nil {
		t.Fatal(err)
	}
	o, err := Build(l.Plan)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deleteQuietly(c, run) })
	start := time.Now()
	if err := c.Create(ctx, o); err != nil {
		t.Fatal(err)
	}
	created := time.Since(start)
	wctx, wcancel := context.WithTimeout(ctx, 2*time.Minute)
	states, err := c.Wait(wctx, run, len(o.Pods), Ready)
	wcancel()
	if err != nil {
		t.Fatalf("%v: %s", err, describe(ctx, c, run, states))
	}
	t.Logf("placed %d pods (%d devices, broker, App Connector and app server) over 50 kwok nodes in 3 sites: created in %v, all Running and Ready %v after the first create",
		len(o.Pods), len(o.Pods)-3, created.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	perNode := map[string]int{}
	for _, s := range states {
		perNode[s.Node]++
		if s.Site != "" && regions[s.Node] != siteRegion(s.Site) {
			t.Errorf("pod %s of site %s on node %s in region %q", s.Name, s.Site, s.Node, regions[s.Node])
		}
	}
	if len(perNode) != 50 {
		t.Errorf("pods on %d nodes; want all 50 used", len(perNode))
	}
	start = time.Now()
	assertGone(ctx, t, c, run)
	t.Logf("deleted the run's namespace and its %d pods in %v", len(o.Pods), time.Since(start).Round(time.Millisecond))
}

func siteRegion(site string) string {
	for _, s := range scaleSites {
		if s.name == site {
			return s.region
		}
	}
	return ""
}

// addNodes registers the kwok nodes of scaleSites; it returns each
// node's region.
func addNodes(ctx context.Context, t *testing.T, env *kubetest.Env) map[string]string {
	t.Helper()
	regions := map[string]string{}
	nodes := map[string]map[string]string{}
	for _, s := range scaleSites {
		for i := range s.nodes {
			name := fmt.Sprintf("kwok-%s-%d", s.name, i)
			nodes[name] = map[string]string{"topology.kubernetes.io/region": s.region, "kubernetes.io/hostname": name, "type": "kwok"}
			regions[name] = s.region
		}
	}
	env.AddNodes(ctx, t, nodes)
	return regions
}

// scaleTopology is a broker and n devices spread over the scale sites in
// proportion to their nodes, on a /16, plus one App Connector in eu.
func scaleTopology(t *testing.T, n int) *topology.Topology {
	t.Helper()
	p, err := device.Load("../../fixtures/devices/win-3.9.0.169-ad.yaml")
	if err != nil {
		t.Fatal(err)
	}
	top := &topology.Topology{Name: "scale", Path: "scale.yaml", Sites: map[string]topology.Site{},
		Network: topology.Network{CNI: map[string]any{"cniVersion": "1.0.0", "name": "scale",
			"plugins": []any{map[string]any{"type": "macvlan", "master": "eth1", "ipam": map[string]any{"type": "host-local", "subnet": "198.18.0.0/16"}}}}}}
	var weights []string
	for _, s := range scaleSites {
		top.Sites[s.name] = topology.Site{NodeSelector: map[string]string{"topology.kubernetes.io/region": s.region}}
		for range s.nodes {
			weights = append(weights, s.name)
		}
	}
	top.Nodes = append(top.Nodes, topology.Node{Name: "broker", Role: topology.RoleBroker, Site: "eu"})
	for i := range n {
		d := *p
		d.Name = fmt.Sprintf("dev-%04d", i)
		top.Nodes = append(top.Nodes, topology.Node{Name: d.Name, Role: topology.RoleAgent, Profile: &d, Site: weights[i%len(weights)]})
	}
	top.Nodes = append(top.Nodes, topology.Node{Name: "dc", Role: topology.RoleConnector, Site: "eu", ServerGroups: []string{"srv-dc1"},
		Apps: []topology.App{{FQDN: "intranet.example.com", Services: []device.Service{{Kind: "echo", Port: 443}}}}})
	if got := slices.Index(weights, "ap"); got < 0 {
		t.Fatal("no ap site")
	}
	return top
}

// deleteQuietly is the cleanup of a test's run, bounded so that a control
// plane that cannot finish a deletion does not hang the test binary.
func deleteQuietly(c *Cluster, runID string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c.Delete(ctx, runID)
}

// describe says how far the run's Pods got, and why one is stuck, for a
// failed wait.
func describe(ctx context.Context, c *Cluster, run string, states map[string]PodState) string {
	bound, ready := 0, 0
	stuck := ""
	for _, s := range states {
		if s.Node != "" {
			bound++
		}
		if s.Ready {
			ready++
		} else if stuck == "" {
			stuck = s.Name
		}
	}
	msg := fmt.Sprintf("%d pods seen, %d bound to a node, %d ready", len(states), bound, ready)
	if stuck != "" {
		if p, err := c.core.Pods(Namespace(run)).Get(context.WithoutCancel(ctx), stuck, metav1.GetOptions{}); err == nil {
			msg += fmt.Sprintf("; pod %s on %q: phase %s, conditions %+v", stuck, p.Spec.NodeName, p.Status.Phase, p.Status.Conditions)
		}
	}
	return msg
}

// scaleDevices is 1,000, or C2CLAB_KUBE_SCALE_DEVICES for a quicker look.
func scaleDevices() int {
	if n, err := strconv.Atoi(os.Getenv("C2CLAB_KUBE_SCALE_DEVICES")); err == nil && n > 0 {
		return n
	}
	return 1000
}
