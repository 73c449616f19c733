package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/c2clab/c2clab/sim/kube"
	"github.com/c2clab/c2clab/sim/kube/kubenet"
	"github.com/c2clab/c2clab/sim/kube/kubenode"
	"github.com/c2clab/c2clab/sim/kube/kubetest"
	"github.com/c2clab/c2clab/sim/lab"
)

// TestLabUpKubernetesWANLabOnARealKubelet runs the documented command,
// lab up --backend kubernetes topologies/two-sites-wan.yaml, detached as a
// script would, against the one-node data plane (kubenode: a real kubelet
// on containerd, Multus its CNI, the NAD CRD installed), with the
// topology's network put on the node's lab bridge and subnet (wanOnNode):
// every machine's address is on its Pod's net1 (Multus reports it there,
// and the agents' SOCKS5 and the echo service listen on it), lab status
// lists the run, a connection is relayed from the admin's agent to
// branch-linux's echo service through the broker (by its Service name,
// which a host alias resolves on this DNS-less node) and both impaired
// links (the emulator in each device's Pod), and lab down RUN leaves no
// namespace and no container.
//
// The links' delays are the check that the emulators are in the path:
// an echo's round trip crosses the admin's link (5 ms one way) and
// branch-linux's (20 ms ± 2 ms) twice each, so it cannot be shorter than
// 46 ms however idle the machine; unimpaired on this node it is about a
// tenth of a millisecond. A lower bound only: a loaded machine makes it
// longer.
func TestLabUpKubernetesWANLabOnARealKubelet(t *testing.T) {
	kubetest.Parallel(t)
	env := kubetest.Start(t, kubetest.Options{Controllers: true, Scheduler: true})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	image, pull, logs, node := wanLabCluster(ctx, t, env)
	tmp := t.TempDir()
	c, err := kube.FromConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	// An external cluster's own network is not this test's to make
	// bridges on: it runs the topology on its Pod network.
	topo, netArgs, lan := "../../topologies/two-sites-wan.yaml", []string{"--pod-network"}, ""
	if node != nil {
		if err := c.InstallNADCRD(ctx); err != nil {
			t.Fatal(err)
		}
		topo, lan = wanOnNode(t, node)
		netArgs = nil
	}
	args := append([]string{"lab", "up", "--detach", "--json", "--backend", "kubernetes", "--kubeconfig", env.Kubeconfig,
		"--image", image, "--pull-policy", pull}, netArgs...)
	out, err := cli(t, tmp, append(args, topo)...)
	if err != nil {
		t.Fatalf("lab up --detach: %v\n%s\n%s", err, out, logs())
	}
	var table labTable
	if err := json.Unmarshal([]byte(out), &table); err != nil {
		t.Fatalf("lab up --detach --json: %v\n%s", err, out)
	}
	id := table.Run
	t.Cleanup(func() { cli(t, tmp, "lab", "down", id) }) // a no-op once the test's lab down has run
	if !hasRun(ctx, t, c, id) {
		t.Fatalf("run %s is not on the cluster while up", id)
	}
	if lan != "" {
		assertOnNet1(ctx, t, env, id, lan, table)
	}
	if status, err := cli(t, tmp, "lab", "status"); err != nil || !regexp.MustCompile(`(?m)^`+id+`\s+live, detached`).MatchString(status) {
		t.Errorf("lab status does not list %s as live and detached: %v\n%s", id, err, status)
	}
	rtts, err := echoRTTs(ctx, socksOf(t, table, "desktop-ADMIN-AC.example.com"), "desktop-LNX14-AC.example.com", 7007, 5)
	if err != nil {
		t.Fatalf("%v\nlab up printed:\n%s\nthe Pods' logs:\n%s", err, out, logs())
	}
	t.Logf("admin to branch-linux through the relay, round trips: %v", rtts)
	if min := slices.Min(rtts); min < 46*time.Millisecond {
		t.Errorf("shortest round trip %v; the links' delays make it at least 46 ms: an emulator is not in the path", min)
	}
	// The App Connector dials its app server on the lab network: net1 to
	// net1 across the node's lab bridge.
	if err := kubenode.Echo(ctx, socksOf(t, table, "desktop-ADMIN-AC.example.com"), "intranet.example.com", 443); err != nil {
		t.Errorf("admin to intranet.example.com through the App Connector: %v\nthe Pods' logs:\n%s", err, logs())
	}
	start := time.Now()
	if out, err := cli(t, tmp, "lab", "down", id); err != nil {
		t.Fatalf("lab down %s: %v\n%s", id, err, out)
	}
	t.Logf("lab down %s took %v", id, time.Since(start).Round(time.Millisecond))
	if hasRun(ctx, t, c, id) {
		t.Errorf("run %s is still on the cluster after lab down", id)
	}
	if node != nil {
		if err := node.WaitStopped(ctx, time.Minute); err != nil {
			t.Errorf("after lab down: %v", err)
		}
	}
	if status, _ := cli(t, tmp, "lab", "status"); strings.Contains(status, id) {
		t.Errorf("lab status still lists %s after lab down:\n%s", id, status)
	}
}

// wanOnNode writes topologies/two-sites-wan.yaml with its network on the
// node's lab bridge (Node.LabNetwork), which the node accepts frames on
// and removes at its end, and on a /24 of the lab's range that no
// interface here has (freeLabSubnet): the topology's own bridge plugin
// would make cni0 on this host and never remove it, and its 198.18.7.0/24
// may be another lab's here. The rest is the topology's, its files named
// by absolute paths, since the copy lives elsewhere.
func wanOnNode(t *testing.T, node *kubenode.Node) (path, subnet string) {
	t.Helper()
	src, err := filepath.Abs("../../topologies/two-sites-wan.yaml")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var top map[string]any
	if err := yaml.Unmarshal(data, &top); err != nil {
		t.Fatal(err)
	}
	abs := func(p any) string { return filepath.Join(filepath.Dir(src), p.(string)) }
	top["tenant"] = abs(top["tenant"])
	for _, n := range top["nodes"].([]any) {
		if n := n.(map[string]any); n["device"] != nil {
			n["device"] = abs(n["device"])
		}
	}
	br, _ := node.LabNetwork()
	subnet = freeLabSubnet(t)
	plugin := top["network"].(map[string]any)["cni"].(map[string]any)["plugins"].([]any)[0].(map[string]any)
	plugin["bridge"] = br
	plugin["ipam"] = map[string]any{"type": "host-local", "subnet": subnet}
	out, err := yaml.Marshal(top)
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(t.TempDir(), "two-sites-wan.yaml")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, subnet
}

// freeLabSubnet is a /24 of 198.18.0.0/15 (a topology's network must be
// in it) that no interface of this host has an address in, from the top
// of the range down; the netns backend takes its subnets by the same test
// (sim/netlab), from places its run IDs hash to.
func freeLabSubnet(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for third := 255; third >= 0; third-- {
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 19, byte(third), 0}), 24)
		if !slices.ContainsFunc(addrs, func(a net.Addr) bool {
			ip, ok := netip.AddrFromSlice(a.(*net.IPNet).IP)
			return ok && p.Contains(ip.Unmap())
		}) {
			return p.String()
		}
	}
	t.Fatal("no free /24 in 198.19.0.0/16")
	return ""
}

// assertOnNet1 checks that every device of the table has its address on
// the lab subnet, with its SOCKS5 there, and that Multus reported each
// of the run's Pods on net1 at an address of that subnet, eth0 aside.
func assertOnNet1(ctx context.Context, t *testing.T, env *kubetest.Env, id, subnet string, table labTable) {
	t.Helper()
	lan := netip.MustParsePrefix(subnet)
	for _, d := range table.Devices {
		ip, err := netip.ParseAddr(d.InterfaceIP)
		if err != nil || !lan.Contains(ip) || !strings.HasPrefix(d.SOCKS, d.InterfaceIP+":") {
			t.Errorf("device %s: address %q, SOCKS5 %q; want both on the lab network %s", d.Name, d.InterfaceIP, d.SOCKS, subnet)
		}
	}
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	pods, err := cs.CoreV1().Pods(id).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		var status []struct {
			Interface string   `json:"interface"`
			IPs       []string `json:"ips"`
		}
		json.Unmarshal([]byte(p.Annotations[kubenet.StatusAnnotation]), &status)
		on := false
		for _, s := range status {
			if a, err := netip.ParseAddr(firstOf(s.IPs)); err == nil && s.Interface == kubenet.LabInterface && lan.Contains(a) {
				on = true
			}
		}
		if !on || lan.Contains(netip.MustParseAddr(p.Status.PodIP)) {
			t.Errorf("pod %s: network-status %s, Pod IP %s; want net1 on %s beside eth0", p.Name, p.Annotations[kubenet.StatusAnnotation], p.Status.PodIP, subnet)
		}
	}
	// The broker, three devices, the App Connector and its app server.
	if len(pods.Items) != 6 {
		t.Errorf("run %s has %d Pods; want 6, each checked above", id, len(pods.Items))
	}
}

func firstOf(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// socksOf is the SOCKS5 address of the device fqdn in lab up's table.
func socksOf(t *testing.T, table labTable, fqdn string) string {
	t.Helper()
	for _, d := range table.Devices {
		if d.FQDN == fqdn {
			return d.SOCKS
		}
	}
	t.Fatalf("lab up's table has no device %s: %+v", fqdn, table.Devices)
	return ""
}

// wanLabCluster returns the image the lab's Pods run, its pull policy and
// what a failure shows of the cluster: here the one-node data plane, with
// the image imported onto it (its node is returned, to count its
// containers); on an external cluster (ci/kube) C2CLAB_KUBETEST_IMAGE,
// already on its nodes.
func wanLabCluster(ctx context.Context, t *testing.T, env *kubetest.Env) (image, pull string, logs func() string, node *kubenode.Node) {
	t.Helper()
	if env.External {
		image = os.Getenv("C2CLAB_KUBETEST_IMAGE")
		if image == "" {
			t.Skip("an external cluster needs C2CLAB_KUBETEST_IMAGE, the c2clab image loaded onto its nodes (ci/kube does both)")
		}
		return image, "IfNotPresent", noLogs, nil
	}
	node = kubenode.Start(t, env)
	image, err := node.ImportC2clab(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return image, "Never", node.Logs, node // imported; nothing can be pulled here
}

// hasRun reports whether the cluster lists run id.
func hasRun(ctx context.Context, t *testing.T, c *kube.Cluster, id string) bool {
	t.Helper()
	runs, err := c.Runs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return slices.ContainsFunc(runs, func(r kube.Run) bool { return r.ID == id })
}

// echoRTTs sends n lines through one relayed connection, one at a time,
// and returns each line's round trip.
func echoRTTs(ctx context.Context, socks, fqdn string, port uint16, n int) ([]time.Duration, error) {
	if err := kubenode.Echo(ctx, socks, fqdn, port); err != nil { // waits for the relay to be there
		return nil, err
	}
	conn, err := lab.DialSOCKS(ctx, socks, fqdn, port)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	var rtts []time.Duration
	for i := range n {
		msg := []byte(fmt.Sprintf("echo %d through both links\n", i))
		start := time.Now()
		if _, err := conn.Write(msg); err != nil {
			return rtts, err
		}
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(conn, got); err != nil || !bytes.Equal(got, msg) {
			return rtts, fmt.Errorf("echo %d: got %q, %v; want %q", i, got, err, msg)
		}
		rtts = append(rtts, time.Since(start))
	}
	return rtts, nil
}
