package kube

import (
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/containernetworking/cni/libcni"

	"github.com/c2clab/c2clab/sim/kube/kubenet"
	"github.com/c2clab/c2clab/sim/netlab"
)

// TestNADConfigAddressesMachinesThroughRealPlugins runs what Multus runs
// for two Pods of one node: the NAD's config through libcni and the real
// bridge and static plugins (the pinned containernetworking/plugins),
// with each Pod's annotated ips as the ips capability. Each namespace must
// get exactly its planned address on net1, and one must reach the other.
func TestNADConfigAddressesMachinesThroughRealPlugins(t *testing.T) {
	t.Parallel() // its namespaces and bridge are its run's own
	if os.Geteuid() != 0 {
		t.Skip("needs root: it makes network namespaces and a bridge")
	}
	for _, tool := range []string{"ip", "nc"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s (.ci/run installs it)", tool)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const run = "c2c7e57a1"
	_, l := wanLab(t)
	l.Plan.RunID = run
	l.Plan.Network = Network{Name: "lab", CNI: defaultNetwork(run), Prefix: mustSubnet(t, defaultNetwork(run))}
	o, err := Build(l.Plan)
	if err != nil {
		t.Fatal(err)
	}
	cfg := o.NADs[0].Object["spec"].(map[string]any)["config"].(string)
	list, err := libcni.ConfListFromBytes([]byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	cni := libcni.NewCNIConfigWithCacheDir([]string{buildPlugins(ctx, t)}, t.TempDir(), nil)
	t.Cleanup(func() { exec.Command("ip", "link", "del", run).Run() })
	openBridge(t, run)
	var addrs []string
	for _, pod := range o.Pods[:2] {
		var sel []kubenet.Selection
		json.Unmarshal([]byte(pod.Annotations[kubenet.NetworksAnnotation]), &sel)
		ns := run + "-" + pod.Name
		if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
			t.Fatalf("ip netns add: %v: %s", err, out)
		}
		t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
		rt := &libcni.RuntimeConf{ContainerID: ns, NetNS: "/var/run/netns/" + ns, IfName: sel[0].Interface,
			CapabilityArgs: map[string]any{"ips": sel[0].IPs}}
		if _, err := cni.AddNetworkList(ctx, list, rt); err != nil {
			t.Fatalf("pod %s: the NAD config through the plugins: %v", pod.Name, err)
		}
		t.Cleanup(func() { cni.DelNetworkList(context.Background(), list, rt) })
		out, err := exec.Command("ip", "-n", ns, "-o", "-4", "addr", "show", "dev", sel[0].Interface).Output()
		if err != nil || strings.Count(string(out), " inet ") != 1 || !strings.Contains(string(out), " "+sel[0].IPs[0]+" ") {
			t.Fatalf("pod %s: net1 has %q (%v); want exactly %s", pod.Name, out, err, sel[0].IPs[0])
		}
		addrs = append(addrs, strings.Split(sel[0].IPs[0], "/")[0])
	}
	assertReach(ctx, t, run+"-"+o.Pods[0].Name, run+"-"+o.Pods[1].Name, addrs[1])
}

// openBridge lets frames cross the bridge: where br_netfilter passes
// bridged frames through iptables and the FORWARD policy is DROP (any host
// running Docker), they are dropped otherwise. On a cluster node the CNI
// setup of the node does this; sim/netlab does it for its own bridges.
func openBridge(t *testing.T, bridge string) {
	t.Helper()
	if _, err := exec.LookPath("iptables"); err != nil {
		return
	}
	rule := []string{"FORWARD", "-i", bridge, "-o", bridge, "-m", "comment", "--comment", "c2clab kube test " + bridge, "-j", "ACCEPT"}
	if out, err := exec.Command("iptables", append([]string{"-w", "5", "-I"}, rule...)...).CombinedOutput(); err != nil {
		t.Fatalf("iptables: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("iptables", append([]string{"-w", "5", "-D"}, rule...)...).Run() })
}

func mustSubnet(t *testing.T, cni []byte) netip.Prefix {
	t.Helper()
	p, err := Subnet(cni)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// buildPlugins builds bridge and static from the module's pinned plugins
// into a directory of the test.
func buildPlugins(ctx context.Context, t *testing.T) string {
	t.Helper()
	version, err := netlab.PluginsVersion()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	args := []string{"install", "-trimpath"}
	for _, p := range []string{"plugins/main/bridge", "plugins/ipam/static"} {
		args = append(args, netlab.PluginsModule+"/"+p+"@"+version)
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go install the plugins: %v: %s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "static")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// assertReach sends a line from namespace from to a listener in to at
// addr, with OpenBSD netcat on both ends.
func assertReach(ctx context.Context, t *testing.T, from, to, addr string) {
	t.Helper()
	lctx, stop := context.WithTimeout(ctx, 20*time.Second)
	defer stop()
	listen := exec.CommandContext(lctx, "ip", "netns", "exec", to, "nc", "-l", addr, "7777")
	var got strings.Builder
	listen.Stdout = &got
	if err := listen.Start(); err != nil {
		t.Fatal(err)
	}
	defer listen.Wait()
	for i := 0; ; i++ {
		send := exec.CommandContext(ctx, "ip", "netns", "exec", from, "nc", "-N", "-w", "3", addr, "7777")
		send.Stdin = strings.NewReader("over net1\n")
		err := send.Run()
		if err == nil {
			break
		}
		if i == 20 {
			t.Fatalf("%s cannot reach %s:7777 in %s: %v", from, addr, to, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	listen.Wait()
	if strings.TrimSpace(got.String()) != "over net1" {
		t.Errorf("listener in %s read %q; want the line sent from %s", to, got.String(), from)
	}
}
