package kube

import (
	"context"
	"errors"
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
// run is deleted and the test proves the namespace, every container and
// (after the node's cleanup) the kubelet and containerd are gone.
func TestPodsRelayOnARealKubelet(t *testing.T) {
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

	top, err := topology.Load("../../topologies/single-site.yaml")
	if err != nil {
		t.Fatal(err)
	}
	top.Nodes = slices.DeleteFunc(top.Nodes, func(n topology.Node) bool {
		return n.Name != "broker" && n.Name != "admin" && n.Name != "desktop-linux"
	})
	ten, _, err := tenant.Load(top.TenantPath())
	if err != nil {
		t.Fatal(err)
	}
	id, err := lab.NewRunID()
	if err != nil {
		t.Fatal(err)
	}
	l, err := FromTopologyWith(top, ten.Policy(), id, ref, Options{PodNetwork: true})
	if err != nil {
		t.Fatal(err)
	}
	l.Plan.PullPolicy = "Never" // nothing can be pulled here: the image was imported
	o, err := Build(l.Plan)
	if err != nil {
		t.Fatal(err)
	}
	c := connect(t, env)
	t.Cleanup(func() { deleteQuietly(c, id) })
	start := time.Now()
	if err := c.Create(ctx, o); err != nil {
		t.Fatal(err)
	}
	states, err := c.Wait(ctx, id, len(o.Pods), Ready)
	if err != nil {
		t.Fatalf("%v: %s", err, describe(ctx, c, id, states))
	}
	t.Logf("3 Pods Ready on the kubelet in %v", time.Since(start).Round(time.Millisecond))

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

	if err := c.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	assertGone(ctx, t, c, id)
	if err := node.WaitNoContainers(ctx, time.Minute); err != nil {
		t.Fatalf("after the run's namespace was deleted: %v", err)
	}
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
