package kube

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/c2clab/c2clab/sim/kube/kubenode"
	"github.com/c2clab/c2clab/sim/kube/kubetest"
	"github.com/c2clab/c2clab/sim/lab"
	"github.com/c2clab/c2clab/sim/tenant"
	"github.com/c2clab/c2clab/sim/topology"
)

// TestPodsRelayOnARealKubelet runs a lab's machines as real Pods: the
// pinned kubelet on Debian's containerd (kubenode) starts a broker and
// two devices from the c2clab image, on the cluster's Pod network (no
// Multus here), and one connection goes from the admin's agent's SOCKS5,
// through the broker, to the desktop's echo service and back. Then the
// run is deleted and the test proves the namespace, every container's
// process and (after the node's cleanup) the kubelet and containerd are
// gone.
func TestPodsRelayOnARealKubelet(t *testing.T) {
	t.Parallel() // a control plane of its own, and a node slot (docs/NETWORK.md)
	var pids []int
	// Registered before the node's own cleanup, so it runs after it.
	t.Cleanup(func() { assertStopped(t, pids) })
	env := kubetest.Start(t, kubetest.Options{Controllers: true, Scheduler: true})
	node := kubenode.Start(t, env)
	pids = node.PIDs()
	// Generous: under CI's load building c2clab alone can take a minute.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ref, err := node.ImportC2clab(ctx)
	if err != nil {
		t.Fatal(err)
	}

	top := loadNodes(t, "single-site.yaml", "broker", "admin", "desktop-linux")
	id, l := planOnNode(t, top, ref, Options{PodNetwork: true})
	c := connect(t, env)
	createReady(ctx, t, c, node, l.Plan)

	admin, err := c.core.Pods(Namespace(id)).Get(ctx, "admin", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if admin.Status.PodIP == "" || !contains(node.Subnet, admin.Status.PodIP) {
		t.Fatalf("admin's Pod address %q is not on the node's Pod network %s", admin.Status.PodIP, node.Subnet)
	}
	if err := kubenode.Echo(ctx, net.JoinHostPort(admin.Status.PodIP, strconv.Itoa(PortSOCKS)), "desktop-LNX14-AC.example.com", 7007); err != nil {
		t.Fatalf("%v\nthe Pods' logs:\n%s", err, node.Logs())
	}

	deleteFromNode(ctx, t, c, node, id)
}

// TestAppConnectorRelaysOnNet1OnARealKubelet runs a lab with its lab
// network on the real kubelet: Multus (kubenode's CNI) gives every Pod
// net1 from the run's NetworkAttachmentDefinition, the topology's bridge
// config with the static IPAM and each Pod's address, beside eth0 on the
// Pod network. One connection goes from the host to the admin's agent's
// SOCKS5 on its net1 address, through the broker's Pod (eth0, by a host
// alias: no cluster DNS here) and the App Connector's, to the app server's
// echo service, which listens on its net1 address only.
func TestAppConnectorRelaysOnNet1OnARealKubelet(t *testing.T) {
	t.Parallel() // a control plane of its own, and a node slot (docs/NETWORK.md)
	env := kubetest.Start(t, kubetest.Options{Controllers: true, Scheduler: true})
	node := kubenode.Start(t, env)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ref, err := node.ImportC2clab(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := connect(t, env)
	if err := c.InstallNADCRD(ctx); err != nil {
		t.Fatal(err)
	}
	id, l := net1Lab(t, ref, node)
	createReady(ctx, t, c, node, l.Plan)
	addrs := map[string]string{}
	for _, m := range l.Plan.Machines {
		addrs[m.Name] = m.Addr.String()
		if err := assertNet1(ctx, c, id, m.Name, m.Addr.String(), node.Subnet); err != nil {
			t.Error(err)
		}
	}
	socks := net.JoinHostPort(addrs["admin"], strconv.Itoa(PortSOCKS))
	if err := kubenode.Echo(ctx, socks, "intranet.example.com", 443); err != nil {
		t.Fatalf("%v\nthe Pods' logs:\n%s", err, node.Logs())
	}
	deleteFromNode(ctx, t, c, node, id)
}

// createReady creates the plan's objects, the run deleted at the test's
// end whatever happens, and waits until every Pod is Ready on the node.
func createReady(ctx context.Context, t *testing.T, c *Cluster, node *kubenode.Node, p Plan) {
	t.Helper()
	o, err := Build(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deleteQuietly(c, p.RunID) })
	start := time.Now()
	if err := c.Create(ctx, o); err != nil {
		t.Fatal(err)
	}
	states, err := c.Wait(ctx, p.RunID, len(o.Pods), Ready)
	if err != nil {
		t.Fatalf("%v: %s\n%s", err, describe(ctx, c, p.RunID, states), node.MultusLog())
	}
	t.Logf("%d Pods Ready on the kubelet in %v", len(o.Pods), time.Since(start).Round(time.Millisecond))
}

// deleteFromNode deletes the run and proves that nothing of it is left:
// no object on the apiserver, no container running on the node.
func deleteFromNode(ctx context.Context, t *testing.T, c *Cluster, node *kubenode.Node, id string) {
	t.Helper()
	if err := c.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	assertGone(ctx, t, c, id)
	if err := node.WaitStopped(ctx, time.Minute); err != nil {
		t.Fatalf("after the run's namespace was deleted: %v", err)
	}
}

// net1Lab plans two-sites-wan's broker, admin and App Connector (with its
// app server) for kubenode: its lab network on the node's lab bridge and
// subnet (the topology's 198.18.7.0/24 may be another lab's on this
// machine), the broker found by a host alias.
func net1Lab(t *testing.T, image string, node *kubenode.Node) (string, Lab) {
	t.Helper()
	top := loadNodes(t, "two-sites-wan.yaml", "broker", "admin", "dc-connector")
	br, subnet := node.LabNetwork()
	bridge := top.Network.CNI["plugins"].([]any)[0].(map[string]any)
	bridge["bridge"] = br
	bridge["ipam"] = map[string]any{"type": "host-local", "subnet": subnet}
	return planOnNode(t, top, image, Options{NoClusterDNS: true})
}

// loadNodes loads topologies/NAME with only the named nodes.
func loadNodes(t *testing.T, name string, keep ...string) *topology.Topology {
	t.Helper()
	top, err := topology.Load("../../topologies/" + name)
	if err != nil {
		t.Fatal(err)
	}
	top.Nodes = slices.DeleteFunc(top.Nodes, func(n topology.Node) bool { return !slices.Contains(keep, n.Name) })
	return top
}

// planOnNode plans top for a new run with its own tenant, its Pods on the
// image imported onto kubenode's node.
func planOnNode(t *testing.T, top *topology.Topology, image string, opts Options) (string, Lab) {
	t.Helper()
	ten, _, err := tenant.Load(top.TenantPath())
	if err != nil {
		t.Fatal(err)
	}
	id, err := lab.NewRunID()
	if err != nil {
		t.Fatal(err)
	}
	l, err := FromTopologyWith(top, ten.Policy(), id, image, opts)
	if err != nil {
		t.Fatal(err)
	}
	l.Plan.PullPolicy = "Never" // nothing can be pulled here: the image was imported
	return id, l
}

// assertNet1 checks that Multus reported the Pod's net1 with the plan's
// address (its network-status annotation) and eth0 on the Pod network.
func assertNet1(ctx context.Context, c *Cluster, id, pod, addr, podSubnet string) error {
	p, err := c.core.Pods(Namespace(id)).Get(ctx, pod, metav1.GetOptions{})
	if err != nil {
		return err
	}
	var status []struct {
		Name      string   `json:"name"`
		Interface string   `json:"interface"`
		IPs       []string `json:"ips"`
	}
	raw := p.Annotations["k8s.v1.cni.cncf.io/network-status"]
	if err := json.Unmarshal([]byte(raw), &status); err != nil {
		return fmt.Errorf("pod %s: network-status %q: %w", pod, raw, err)
	}
	var net1, eth0 bool
	for _, s := range status {
		switch s.Interface {
		case labInterface:
			net1 = slices.Equal(s.IPs, []string{addr})
		case "eth0":
			eth0 = len(s.IPs) == 1 && contains(podSubnet, s.IPs[0])
		}
	}
	if !net1 || !eth0 || !contains(podSubnet, p.Status.PodIP) {
		return fmt.Errorf("pod %s: network-status %s, Pod IP %s; want net1 at %s and eth0 on %s", pod, raw, p.Status.PodIP, addr, podSubnet)
	}
	return nil
}

func contains(prefix, addr string) bool {
	_, n, err := net.ParseCIDR(prefix)
	return err == nil && n.Contains(net.ParseIP(addr))
}

// assertStopped checks that the node's processes are gone after its
// cleanup: a signal 0 to their PIDs finds nothing.
func assertStopped(t *testing.T, pids []int) {
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("process %d of the node is still there after cleanup (kill 0: %v)", pid, err)
		}
	}
}
