package kube

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/c2clab/c2clab/sim/image"
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
	ref := importC2clab(ctx, t, node)

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
	if admin.Status.PodIP == "" || !contains(kubenode.Subnet, admin.Status.PodIP) {
		t.Fatalf("admin's Pod address %q is not on the node's Pod network %s", admin.Status.PodIP, kubenode.Subnet)
	}
	if err := echoThroughPods(ctx, net.JoinHostPort(admin.Status.PodIP, strconv.Itoa(PortSOCKS)), "desktop-LNX14-AC.example.com"); err != nil {
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

// importC2clab builds the static c2clab, writes its image archive as
// `c2clab image save` does, and imports it onto the node.
func importC2clab(ctx context.Context, t *testing.T, node *kubenode.Node) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "c2clab")
	if err := image.BuildBinary(ctx, "../..", bin); err != nil {
		t.Fatal(err)
	}
	ref := "c2clab.local/c2clab:test-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	archive := filepath.Join(dir, "c2clab.tar")
	f, err := os.Create(archive)
	if err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(image.Archive(f, bin, ref), f.Close()); err != nil {
		t.Fatal(err)
	}
	if err := node.Import(ctx, archive); err != nil {
		t.Fatal(err)
	}
	return ref
}

// echoThroughPods sends a line through the agent's SOCKS5 at socks to the
// echo service of the device named fqdn, relayed by the broker's Pod.
func echoThroughPods(ctx context.Context, socks, fqdn string) error {
	var conn net.Conn
	var err error
	// The agents are Ready once they serve; their enrolment with the
	// broker may take a moment more, which SOCKS5 answers with a refusal.
	for deadline := time.Now().Add(30 * time.Second); ; {
		if conn, err = lab.DialSOCKS(ctx, socks, fqdn, 7007); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("dial %s:7007 through the agent's SOCKS5 at %s: %w", fqdn, socks, err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	msg := []byte("hello through the broker's Pod\n")
	if _, err := conn.Write(msg); err != nil {
		return fmt.Errorf("echo through the relay: %w", err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(conn, got); err != nil || string(got) != string(msg) {
		return fmt.Errorf("echo through the relay: got %q, %v; want %q", got, err, msg)
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
