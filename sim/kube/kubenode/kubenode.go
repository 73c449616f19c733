// Package kubenode runs a real one-node data plane for tests, next to the
// control plane kubetest starts: Debian's containerd (its CRI plugin, on
// a root, state and socket of the test's own, never the host's or
// Docker's), the pinned kubelet that ci/kube-build builds, and Multus'
// thin plugin (ci/multus-build) as its CNI: eth0 of every Pod on the
// cluster's default network from the pinned CNI plugins (bridge,
// host-local, loopback) on a bridge of its own, and net1 where a Pod's
// networks annotation names a NetworkAttachmentDefinition (the lab
// network; LabNetwork is the node's for it). The Pods'
// sandbox image is built FROM scratch from ./pause, since
// registry.k8s.io cannot be reached; every other image is imported (ctr
// images import) as well.
//
// There is no CoreDNS or kube-proxy on this node: no cluster DNS and no
// Service addresses that lead anywhere (sim/lab's kubernetes placer finds
// no kube-system/kube-dns and gives the Pods the broker's name as a host
// alias). The NAD CRD is the caller's to install
// (sim/kube.Cluster.InstallNADCRD; this package cannot import sim/kube).
//
// Several nodes run on one machine at once, each in a slot of its own
// (slot.go): bridges, subnets and a cgroup for its kubelet's Pods.
//
// Everything it starts is stopped by PID and everything it makes is
// removed at the test's end: the namespace's Pods first (so the kubelet
// tears their sandboxes down), then any container containerd still holds,
// the kubelet, containerd, the bridge, the Pods' cgroups and the files.
package kubenode

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/c2clab/c2clab/sim/image"
	"github.com/c2clab/c2clab/sim/kube/kubetest"
	"github.com/c2clab/c2clab/sim/lab"
	"github.com/c2clab/c2clab/sim/netlab"
)

// PauseImage is the sandbox image the node's containerd is told to use.
const PauseImage = "c2clab.local/pause:1"

// Namespace is containerd's namespace for the CRI's images and containers.
const Namespace = "k8s.io"

// LabNetwork is the bridge and subnet a NetworkAttachmentDefinition on
// this node should use, its slot's second network (LabBridge,
// LabSubnet): the node accepts forwarded frames on that bridge and
// removes it at cleanup (the bridge plugin never deletes a bridge), and
// the subnet is apart from the Pods' and from the netns backend's
// 198.18.0.0/15 (another lab on the machine may use any of that).
func (n *Node) LabNetwork() (bridge, subnet string) { return n.LabBridge, n.LabSubnet }

// Node is a running one-node data plane.
type Node struct {
	// Name is the Node object's name.
	Name string
	// Socket is containerd's CRI and API socket.
	Socket string
	// Bridge and Subnet are the Pods' network, the node's slot's
	// (slotFor; slot 0: c2ckn0 and 100.64.64.0/24, as the single node had).
	Bridge, Subnet string
	// LabBridge and LabSubnet are the slot's second network, for the lab
	// network a NetworkAttachmentDefinition on this node puts on net1
	// (c2ckn1 and 100.64.65.0/24 in slot 0): no node of another slot uses
	// them.
	LabBridge, LabSubnet string
	dir                  string
	env                  *kubetest.Env
	procs                []*proc
	// machine is the node's hold on its slot; the cleanup releases it.
	machine *machine
	// forward is set while the node's FORWARD rule is in place.
	forward bool
}

// hostDirs are the host's directories the kubelet and containerd's CRI
// use whatever their configuration says (the device plugins' socket, the
// container log links, libcni's result cache), shared by every node of
// the machine; the last node out removes those the nodes created, the
// shared cache only if it is empty then. /run/containerd is
// left alone: containerd 1.6 keeps every shim's socket in
// /run/containerd/s, Docker's shims included, so it is not the node's to
// remove even when the node made it (what the node's shims put there goes
// with them).
var hostDirs = []string{"/var/lib/kubelet", "/var/log/containers", "/var/lib/cni/results", "/var/lib/cni"}

// sharedDirs are removed only when empty: other CNI users share them.
var sharedDirs = map[string]bool{"/var/lib/cni/results": true, "/var/lib/cni": true}

func missing(dirs []string) []string {
	var out []string
	for _, d := range dirs {
		if _, err := os.Stat(d); errors.Is(err, os.ErrNotExist) {
			out = append(out, d)
		}
	}
	return out
}

// Skip reasons, checked before anything is started.
var (
	ErrNotRoot      = errors.New("kubenode: the kubelet and containerd run as root only")
	ErrNoContainerd = errors.New("kubenode: no containerd or runc here (Debian: apt-get install containerd)")
	ErrNoKubelet    = errors.New("kubenode: the pinned kubelet is not built (ci/kube-build builds it)")
)

// Available says why a node cannot run here, or nil.
func Available() error {
	if os.Geteuid() != 0 {
		return ErrNotRoot
	}
	for _, b := range []string{"containerd", "ctr", "runc", "containerd-shim-runc-v2"} {
		if _, err := exec.LookPath(b); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrNoContainerd, b, err)
		}
	}
	assets, err := kubetest.Assets()
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(assets, "kubelet")); err != nil {
		return fmt.Errorf("%w: %w", ErrNoKubelet, err)
	}
	return nil
}

// Start starts containerd and the kubelet against env's apiserver and
// waits until the Node is Ready. It skips the test with the reason when
// a node cannot run here (Available); under CI=true that fails it.
func Start(t testing.TB, env *kubetest.Env) *Node {
	t.Helper()
	if env.External {
		t.Skip("kubenode: the tests run against an existing cluster (" + kubetest.ExternalVar + "); its own nodes run the Pods")
	}
	if err := Available(); err != nil {
		if os.Getenv("CI") == "true" && !errors.Is(err, ErrNotRoot) {
			t.Fatalf("%v; .ci/run installs containerd and builds the kubelet, and in CI this test must not skip", err)
		}
		t.Skipf("%v", err)
	}
	// A slot of the machine's (its bridges, subnets and cgroup), so that
	// nodes of test binaries that go test runs side by side coexist; when
	// every slot is taken the node waits (the hold goes with the process
	// if it dies).
	// containerd mounts every Pod's network namespace in /var/run/netns;
	// made a mount point first, no later `ip netns add` binds the
	// directory over those mounts, which would leave them unremovable.
	if err := netlab.ShareNetnsDir(); err != nil {
		t.Fatal(err)
	}
	waitStart := time.Now()
	m := claimMachine(t, machineBooks)
	t.Logf("kubenode: slot %d (bridge %s, %s) after waiting %v for one", m.slot.index, m.slot.bridge, m.slot.subnet, time.Since(waitStart).Round(time.Millisecond))
	started := time.Now()
	if _, err := net.InterfaceByName(m.slot.bridge); err == nil {
		m.release(func(state) error { return nil })
		t.Fatalf("kubenode: bridge %s exists, yet its slot was free: a crashed kubenode left it (ip link del %s)", m.slot.bridge, m.slot.bridge)
	}
	assets, _ := kubetest.Assets()
	// Short paths: unix sockets are limited to 108 bytes, and t.TempDir's
	// are long.
	dir, err := os.MkdirTemp("", "c2ckn-")
	if err != nil {
		m.release(func(state) error { return nil })
		t.Fatal(err)
	}
	n := &Node{Name: "c2ckn-" + filepath.Base(dir)[len("c2ckn-"):], Socket: filepath.Join(dir, "containerd.sock"), dir: dir, env: env,
		Bridge: m.slot.bridge, Subnet: m.slot.subnet, LabBridge: m.slot.labBridge, LabSubnet: m.slot.labSubnet, machine: m}
	n.Name = strings.ToLower(n.Name)
	t.Cleanup(func() { n.cleanup(t) })
	if err := makeCgroupRoot(m.slot.cgroupRoot); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := n.writeCNI(); err != nil {
		t.Fatal(err)
	}
	if err := n.buildPlugins(ctx); err != nil {
		t.Fatal(err)
	}
	if err := n.openForward(ctx); err != nil {
		t.Fatal(err)
	}
	n.startContainerd(ctx, t)
	if err := n.importPause(ctx); err != nil {
		t.Fatal(err)
	}
	n.startKubelet(t, assets)
	if err := n.waitReady(ctx); err != nil {
		t.Fatalf("%v\n--- kubelet log:\n%s", err, kubetest.Tail(filepath.Join(dir, "kubelet.log"), 40))
	}
	t.Logf("kubenode: node %s Ready %v after its slot", n.Name, time.Since(started).Round(time.Millisecond))
	return n
}

// Import loads a docker save archive (sim/image.Archive, c2clab image
// save) into the node's containerd for the kubelet's Pods.
func (n *Node) Import(ctx context.Context, archive string) error {
	return n.ctr(ctx, "images", "import", archive)
}

// Tasks lists the containers (sandboxes included) whose processes run:
// empty once every Pod of the node has stopped. A stopped Pod's records
// stay in containerd until the kubelet's container garbage collection,
// which runs once a minute (ContainerGCPeriod, not configurable); they
// hold no process, network namespace, cgroup or mount, and go with the
// node's directory.
func (n *Node) Tasks(ctx context.Context) ([]string, error) {
	out, err := exec.CommandContext(ctx, "ctr", "-a", n.Socket, "-n", Namespace, "tasks", "ls", "-q").Output()
	if err != nil {
		return nil, fmt.Errorf("kubenode: ctr tasks ls: %w", err)
	}
	return strings.Fields(string(out)), nil
}

// PIDs are the process IDs of what Start started (containerd, kubelet),
// for tests that prove they are gone.
func (n *Node) PIDs() []int {
	var pids []int
	for _, p := range n.procs {
		pids = append(pids, p.cmd.Process.Pid)
	}
	return pids
}

func (n *Node) ctr(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, "ctr", append([]string{"-a", n.Socket, "-n", Namespace}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("kubenode: ctr %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// writeCNI writes the kubelet's CNI config: Multus' thin plugin, the
// only file in containerd's conf_dir, delegating eth0 to the cluster's
// default network (podsNetwork) and adding what a Pod's
// k8s.v1.cni.cncf.io/networks annotation asks for from its
// NetworkAttachmentDefinition (net1, the lab network). Multus reads the
// Pod and the NAD from the apiserver with the test's kubeconfig; its
// caches, plugins and log are the node's, not /var/lib/cni/multus or
// /opt/cni/bin.
func (n *Node) writeCNI() error {
	conf := filepath.Join(n.dir, "cni", "conf")
	if err := os.MkdirAll(conf, 0o755); err != nil {
		return err
	}
	var pods map[string]any
	if err := json.Unmarshal([]byte(n.podsNetwork()), &pods); err != nil {
		return fmt.Errorf("kubenode: pods network: %w", err)
	}
	multus := map[string]any{
		"cniVersion": "1.0.0", "name": "multus-cni-network", "type": "multus",
		"kubeconfig": n.env.Kubeconfig,
		"binDir":     filepath.Join(n.dir, "cni", "bin"),
		"cniDir":     filepath.Join(n.dir, "cni", "multus"),
		"confDir":    filepath.Join(n.dir, "cni", "multus-conf"),
		"logFile":    filepath.Join(n.dir, "multus.log"), "logLevel": "verbose",
		"delegates": []any{pods},
	}
	data, err := json.Marshal(multus)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(conf, "00-multus.conf"), data, 0o644)
}

// podsNetwork is the cluster's default network, eth0 of every Pod: a
// bridge with host-local addresses from Subnet, the bridge as the Pods'
// gateway so the host (the test) reaches them, and no masquerading
// (nothing leaves the lab range).
func (n *Node) podsNetwork() string {
	return `{"cniVersion":"1.0.0","name":"c2ckn-pods","plugins":[{"type":"bridge","bridge":"` + n.Bridge +
		`","isGateway":true,"ipMasq":false,"hairpinMode":true,"ipam":{"type":"host-local","ranges":[[{"subnet":"` + n.Subnet +
		`"}]],"dataDir":"` + filepath.Join(n.dir, "cni", "ipam") + `"}}]}`
}

// cniPlugins are the plugins the node's CNI runs, at the version the
// module pins: bridge and host-local for eth0, loopback for every
// sandbox's lo (containerd's CRI calls it), and static, the IPAM sim/kube
// gives every NetworkAttachmentDefinition (the Pod's ips).
var cniPlugins = []string{"plugins/main/bridge", "plugins/ipam/host-local", "plugins/main/loopback", "plugins/ipam/static"}

// buildPlugins builds cniPlugins with go install outside the module (as
// sim/kube's attach test does: the main module does not carry the
// plugins' own dependencies), and puts Multus beside them (linkMultus).
func (n *Node) buildPlugins(ctx context.Context) error {
	version, err := netlab.PluginsVersion()
	if err != nil {
		return err
	}
	bin := filepath.Join(n.dir, "cni", "bin")
	args := []string{"install", "-trimpath"}
	for _, p := range cniPlugins {
		args = append(args, netlab.PluginsModule+"/"+p+"@"+version)
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = n.dir
	cmd.Env = append(os.Environ(), "GOBIN="+bin, "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("kubenode: go %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return n.linkMultus(bin)
}

// linkMultus puts Multus' thin plugin into the node's CNI bin directory as
// "multus", built by ci/multus-build (which holds its version and says why
// it is built apart from ci/kubebin); built once per machine, it answers
// at once afterwards (.ci/run builds it before the tests).
func (n *Node) linkMultus(bin string) error {
	// Its own time: cold, the build takes minutes, more than Start's.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(moduleDir(), "ci", "multus-build"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("kubenode: ci/multus-build: %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return os.Symlink(lines[len(lines)-1], filepath.Join(bin, "multus"))
}

// goCmd runs the go command in this module (the source tree of the test).
func goCmd(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = moduleDir()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("kubenode: go %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

func moduleDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// importPause builds ./pause statically and imports it as PauseImage.
func (n *Node) importPause(ctx context.Context) error {
	bin := filepath.Join(n.dir, "pause")
	if err := goCmd(ctx, "build", "-trimpath", "-o", bin, "./sim/kube/kubenode/pause"); err != nil {
		return err
	}
	archive := filepath.Join(n.dir, "pause.tar")
	f, err := os.Create(archive)
	if err != nil {
		return err
	}
	err = image.Archive(f, bin, PauseImage)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("kubenode: pause image: %w", err)
	}
	return n.Import(ctx, archive)
}

// forwardRules accept Pod-to-Pod traffic on the node's bridges, the
// Pods' (eth0) and the lab network's (net1). They are needed where
// br_netfilter passes bridged frames through iptables and the FORWARD
// policy is DROP (any host running Docker, this one included: without
// them the agents' dials of the broker's Pod time out); the comment
// names the node so that its cleanup removes exactly these rules.
func (n *Node) forwardRules() [][]string {
	comment := []string{"-m", "comment", "--comment", n.Name, "-j", "ACCEPT"}
	return [][]string{
		append([]string{"FORWARD", "-i", n.Bridge, "-o", n.Bridge, "-s", n.Subnet, "-d", n.Subnet}, comment...),
		// Any subnet: a test's lab network on this bridge may be on the
		// lab's own range (a topology's must be), not on LabSubnet.
		append([]string{"FORWARD", "-i", n.LabBridge, "-o", n.LabBridge}, comment...),
	}
}

func (n *Node) openForward(ctx context.Context) error {
	if _, err := exec.LookPath("iptables"); err != nil {
		n.forward = false
		return nil // no iptables, no FORWARD policy to open
	}
	n.forward = true
	for _, r := range n.forwardRules() {
		if err := iptables(ctx, append([]string{"-I"}, r...)...); err != nil {
			return err
		}
	}
	return nil
}

func (n *Node) closeForward(ctx context.Context) error {
	if !n.forward {
		return nil
	}
	var errs []error
	for _, r := range n.forwardRules() {
		errs = append(errs, iptables(ctx, append([]string{"-D"}, r...)...))
	}
	return errors.Join(errs...)
}

func iptables(ctx context.Context, args ...string) error {
	if out, err := exec.CommandContext(ctx, "iptables", append([]string{"-w"}, args...)...).CombinedOutput(); err != nil {
		return fmt.Errorf("kubenode: iptables %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// containerdConfig keeps this containerd apart from any other on the
// machine (Docker's runs its own): root, state, sockets and opt are the
// node's directory's, and the CRI uses the node's CNI and pause image.
// cgroupfs (SystemdCgroup false): no systemd here, and cgroup v1.
// restrict_oom_score_adj: root here lacks CAP_SYS_RESOURCE, so the
// kubelet's -998 for sandboxes fails in runc ("nsexec: failed to update
// /proc/self/oom_score_adj: Permission denied", seen as "can't get final
// child's PID from pipe: EOF"); containerd then raises it to its own.
func (n *Node) containerdConfig() string {
	d := n.dir
	return `version = 2
root = "` + d + `/containerd/root"
state = "` + d + `/containerd/state"
[grpc]
  address = "` + n.Socket + `"
[ttrpc]
  address = "` + d + `/containerd-ttrpc.sock"
[debug]
  address = ""
[metrics]
  address = ""
[plugins]
  [plugins."io.containerd.internal.v1.opt"]
    path = "` + d + `/containerd/opt"
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "` + PauseImage + `"
    restrict_oom_score_adj = true
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "overlayfs"
      default_runtime_name = "runc"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          SystemdCgroup = false
          Root = "` + d + `/runc"
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "` + d + `/cni/bin"
      conf_dir = "` + d + `/cni/conf"
`
}

func (n *Node) startContainerd(ctx context.Context, t testing.TB) {
	t.Helper()
	cfg := filepath.Join(n.dir, "containerd.toml")
	if err := os.WriteFile(cfg, []byte(n.containerdConfig()), 0o600); err != nil {
		t.Fatal(err)
	}
	n.start(t, "containerd", "containerd", "--config", cfg)
	for {
		if c, err := net.Dial("unix", n.Socket); err == nil {
			c.Close()
			if exec.CommandContext(ctx, "ctr", "-a", n.Socket, "version").Run() == nil {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("kubenode: containerd did not answer on %s\n%s", n.Socket, kubetest.Tail(filepath.Join(n.dir, "containerd.log"), 30))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// kubeletConfig is the KubeletConfiguration for this machine:
//   - failCgroupV1 false: since 1.35 the kubelet refuses cgroup v1
//     otherwise (KEP-5573), and this machine has v1 only;
//   - cgroupDriver cgroupfs: containerd 1.6 does not answer the CRI's
//     RuntimeConfig, so the 1.36 kubelet falls back to this setting (the
//     fallback goes in 1.37);
//   - no swap check, no eviction thresholds a shared, busy disk would
//     cross, no image garbage collection of the imported images;
//   - its API on a free loopback port, allowing the apiserver's
//     cluster-admin (the test's) only;
//   - cgroupRoot the slot's, so that its kubepods hierarchy is apart from
//     any other node's on the machine (see slot).
func (n *Node) kubeletConfig(port int) string {
	return `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: ` + n.machine.slot.cgroupRoot + `
containerRuntimeEndpoint: unix://` + n.Socket + `
failSwapOn: false
podLogsDir: ` + n.dir + `/pod-logs
address: 127.0.0.1
port: ` + strconv.Itoa(port) + `
readOnlyPort: 0
healthzPort: 0
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
evictionHard: {memory.available: "1Mi", nodefs.available: "0%", nodefs.inodesFree: "0%", imagefs.available: "0%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
resolvConf: ""
registerNode: true
syncFrequency: 5s
fileCheckFrequency: 5s
nodeStatusUpdateFrequency: 5s
`
}

func (n *Node) startKubelet(t testing.TB, assets string) {
	t.Helper()
	cfg := filepath.Join(n.dir, "kubelet.yaml")
	port := freePort(t)
	if err := os.WriteFile(cfg, []byte(n.kubeletConfig(port)), 0o600); err != nil {
		t.Fatal(err)
	}
	n.start(t, "kubelet", filepath.Join(assets, "kubelet"), "--config", cfg, "--kubeconfig", n.env.Kubeconfig,
		"--root-dir", filepath.Join(n.dir, "kubelet"), "--cert-dir", filepath.Join(n.dir, "kubelet-pki"),
		"--hostname-override", n.Name, "--v", "2")
}

// waitReady waits for the Node to register and report Ready, then lifts
// the not-ready taint the apiserver put on it at registration: in a
// cluster the node lifecycle controller does that, and kubetest does not
// run it (its kwok nodes send no heartbeats). Until then the scheduler
// places nothing on the node.
func (n *Node) waitReady(ctx context.Context) error {
	c, err := kubernetes.NewForConfig(n.env.Config)
	if err != nil {
		return err
	}
	var last string
	for {
		node, err := c.CoreV1().Nodes().Get(ctx, n.Name, metav1.GetOptions{})
		if err == nil {
			for _, cond := range node.Status.Conditions {
				if cond.Type == corev1.NodeReady {
					if cond.Status == corev1.ConditionTrue {
						if err := untaint(ctx, c, node); err == nil || !apierrors.IsConflict(err) {
							return err
						}
					}
					last = cond.Reason + ": " + cond.Message
				}
			}
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("kubenode: node %s not Ready: %s: %w", n.Name, last, ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func untaint(ctx context.Context, c kubernetes.Interface, node *corev1.Node) error {
	node.Spec.Taints = slices.DeleteFunc(node.Spec.Taints, func(tt corev1.Taint) bool { return tt.Key == corev1.TaintNodeNotReady })
	_, err := c.CoreV1().Nodes().Update(ctx, node, metav1.UpdateOptions{})
	if err != nil {
		return fmt.Errorf("kubenode: untaint node %s: %w", node.Name, err)
	}
	return nil
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// proc is a process Start started, with its log.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
}

func (n *Node) start(t testing.TB, name, bin string, args ...string) {
	t.Helper()
	log, err := os.Create(filepath.Join(n.dir, name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = log, log
	// Its own process group, and killed with the test binary: a test that
	// dies leaves no kubelet behind.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := kubetest.StartProcess(cmd); err != nil {
		log.Close()
		t.Fatalf("kubenode: start %s: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); log.Close(); close(p.done) }()
	n.procs = append(n.procs, p)
}

// stop ends p by its PID: SIGTERM, then SIGKILL after a while.
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// cleanup takes the node down in the order that leaves nothing: the Pods
// bound to it (the kubelet stops their containers and removes their
// sandboxes, which releases their addresses, veths and network
// namespaces), then whatever containerd still holds, the kubelet,
// containerd, the bridge, the kubelet's cgroups, mounts and files.
// Anything it cannot remove fails the test: a leak is a defect.
func (n *Node) cleanup(t testing.TB) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var errs []error
	if len(n.procs) > 1 {
		errs = append(errs, n.drain(ctx))
	}
	errs = append(errs, n.stopTasks(ctx))
	for i := len(n.procs) - 1; i >= 0; i-- {
		n.procs[i].stop()
	}
	errs = append(errs, n.closeForward(ctx))
	for _, br := range []string{n.Bridge, n.LabBridge} {
		if _, err := net.InterfaceByName(br); err == nil {
			if out, err := exec.Command("ip", "link", "del", br).CombinedOutput(); err != nil {
				errs = append(errs, fmt.Errorf("kubenode: ip link del %s: %w: %s", br, err, out))
			}
		}
	}
	errs = append(errs, removeCgroups(n.machine.slot.cgroupRoot), unmountUnder(n.dir))
	errs = append(errs, n.machine.release(func(s state) error { return lastOut(t, s) }))
	if err := errors.Join(errs...); err != nil {
		t.Errorf("kubenode: cleanup: %v", err)
	}
	if t.Failed() {
		for _, name := range []string{"kubelet", "containerd", "multus"} {
			t.Logf("--- %s log (last lines):\n%s", name, kubetest.Tail(filepath.Join(n.dir, name+".log"), 40))
		}
	}
	if err := os.RemoveAll(n.dir); err != nil {
		t.Errorf("kubenode: cleanup: %v", err)
	}
}

// drain deletes every Pod bound to the node, whatever its namespace, and
// waits until containerd runs no container of the CRI.
func (n *Node) drain(ctx context.Context) error {
	c, err := kubernetes.NewForConfig(n.env.Config)
	if err != nil {
		return err
	}
	zero := int64(0)
	pods, err := c.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=" + n.Name})
	if err != nil {
		return fmt.Errorf("kubenode: list pods on %s: %w", n.Name, err)
	}
	for _, p := range pods.Items {
		c.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
	}
	return n.WaitStopped(ctx, time.Minute)
}

// WaitStopped waits until no container of the CRI runs (the kubelet
// stopped every Pod's containers and sandbox), at most d. It does not
// wait for the stopped ones' records to go (Tasks): that would be up to
// the kubelet's one-minute garbage collection, 40 s of a test's minute.
func (n *Node) WaitStopped(ctx context.Context, d time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	for {
		ids, err := n.Tasks(ctx)
		if err == nil && len(ids) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("kubenode: containerd still runs %v: %w", ids, errors.Join(err, ctx.Err()))
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// stopTasks kills and deletes what still runs after the kubelet's drain,
// so that no shim or container process outlives the node: a leak, so
// reported. Stopped containers' records go with the node's directory.
func (n *Node) stopTasks(ctx context.Context) error {
	ids, err := n.Tasks(ctx)
	if err != nil || len(ids) == 0 {
		return nil // containerd gone or nothing running: nothing of its to stop
	}
	var errs []error
	for _, id := range ids {
		n.ctr(ctx, "tasks", "kill", "-s", "SIGKILL", id)
		time.Sleep(200 * time.Millisecond)
		errs = append(errs, n.ctr(ctx, "tasks", "delete", "-f", id))
	}
	return fmt.Errorf("kubenode: %d containers still ran after the kubelet's drain, killed: %w", len(ids), errors.Join(errs...))
}

// podNetns lists the named network namespaces containerd's CRI makes for
// Pod sandboxes (/run/netns/cni-UUID).
func podNetns() map[string]bool {
	names, _ := filepath.Glob("/run/netns/cni-*")
	set := map[string]bool{}
	for _, p := range names {
		set[filepath.Base(p)] = true
	}
	return set
}

// lastOut removes what the machine's nodes share once the last of them
// is done (s: the machine before the first of them started): the host
// directories they made and the Pod network namespaces their containerds
// made and left (a sandbox stopped but not removed keeps its namespace;
// 19 had piled up on the development machine). While another node runs,
// its containerd may be making a namespace that no process has entered
// yet, so an earlier node cannot tell whose one is.
func lastOut(t testing.TB, s state) error {
	errs := []error{removePodNetns(t, s.PodNetns)}
	for _, d := range s.HostDirs {
		if sharedDirs[d] {
			os.Remove(d) // fails, and is kept, when another CNI user put something there
			continue
		}
		errs = append(errs, os.RemoveAll(d))
	}
	return errors.Join(errs...)
}

// removePodNetns deletes the Pod network namespaces but those in before.
// One that a process still uses is not the nodes' to delete: an error.
func removePodNetns(t testing.TB, before []string) error {
	var errs []error
	left := 0
	for name := range podNetns() {
		if slices.Contains(before, name) {
			continue
		}
		if pids, _ := exec.Command("ip", "netns", "pids", name).Output(); len(strings.TrimSpace(string(pids))) > 0 {
			errs = append(errs, fmt.Errorf("kubenode: Pod network namespace %s is still in use by %s", name, strings.Fields(string(pids))))
			continue
		}
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			errs = append(errs, fmt.Errorf("kubenode: ip netns del %s: %w: %s", name, err, out))
			continue
		}
		left++
	}
	if left > 0 {
		t.Logf("kubenode: containerd left %d Pod network namespaces; removed", left)
	}
	return errors.Join(errs...)
}

// removeCgroups removes the slot's cgroup, root ("/c2cknK"), with the
// kubelet's kubepods hierarchy under it (cgroupfs driver, cgroup v1: one
// tree per controller), deepest first.
func removeCgroups(root string) error {
	roots, _ := filepath.Glob("/sys/fs/cgroup/*" + root)
	var errs []error
	for _, root := range roots {
		var dirs []string
		filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			if err := syscall.Rmdir(dirs[i]); err != nil && !errors.Is(err, syscall.ENOENT) {
				errs = append(errs, fmt.Errorf("kubenode: rmdir %s: %w", dirs[i], err))
			}
		}
	}
	return errors.Join(errs...)
}

// unmountUnder detaches every mount below dir (the kubelet's Secret
// volumes, containerd's snapshots), deepest first.
func unmountUnder(dir string) error {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	var points []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && strings.HasPrefix(f[4], dir+"/") {
			points = append(points, f[4])
		}
	}
	var errs []error
	for i := len(points) - 1; i >= 0; i-- {
		if err := syscall.Unmount(points[i], syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) {
			errs = append(errs, fmt.Errorf("kubenode: umount %s: %w", points[i], err))
		}
	}
	return errors.Join(errs...)
}

// Logs returns the last lines of every container log the kubelet keeps
// (podLogsDir), for a failed test to show what its Pods said.
func (n *Node) Logs() string {
	var b strings.Builder
	filepath.WalkDir(filepath.Join(n.dir, "pod-logs"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(filepath.Join(n.dir, "pod-logs"), p)
			fmt.Fprintf(&b, "--- %s:\n%s\n", rel, kubetest.Tail(p, 15))
		}
		return nil
	})
	return b.String()
}

// ImportC2clab builds the static c2clab of this source tree, writes its
// image archive as `c2clab image save` does, imports it onto the node,
// and returns the image's reference (unique per call).
func (n *Node) ImportC2clab(ctx context.Context) (string, error) {
	bin := filepath.Join(n.dir, "c2clab")
	if err := image.BuildBinary(ctx, moduleDir(), bin); err != nil {
		return "", err
	}
	ref := "c2clab.local/c2clab:test-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	archive := filepath.Join(n.dir, "c2clab.tar")
	f, err := os.Create(archive)
	if err != nil {
		return "", err
	}
	if err := errors.Join(image.Archive(f, bin, ref), f.Close()); err != nil {
		return "", fmt.Errorf("kubenode: c2clab image: %w", err)
	}
	return ref, n.Import(ctx, archive)
}

// Echo sends a line through the agent's SOCKS5 at socks to fqdn:port, an
// echo service, and checks it comes back. The agent may be Ready before
// it has enrolled with the broker, which SOCKS5 answers with a refusal,
// so dialling is retried for a while.
func Echo(ctx context.Context, socks, fqdn string, port uint16) error {
	var conn net.Conn
	var err error
	for deadline := time.Now().Add(30 * time.Second); ; {
		if conn, err = lab.DialSOCKS(ctx, socks, fqdn, port); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("dial %s:%d through the agent's SOCKS5 at %s: %w", fqdn, port, socks, err)
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

// MultusLog returns the last lines of Multus' log, for a failed test to
// show why a Pod got no network.
func (n *Node) MultusLog() string {
	return "--- multus.log:\n" + kubetest.Tail(filepath.Join(n.dir, "multus.log"), 30)
}
