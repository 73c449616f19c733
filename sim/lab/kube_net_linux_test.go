package lab

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"

	"github.com/c2clab/c2clab/sim/kube/kubenet"
	"github.com/c2clab/c2clab/sim/kube/kubetest"
	"github.com/c2clab/c2clab/sim/topology"
)

// wanCNI is topologies/two-sites-wan.yaml's network, as lab up passes it.
func wanCNI(t *testing.T) []byte {
	t.Helper()
	top, err := topology.Load(filepath.Join("..", "..", "topologies", "two-sites-wan.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cni, err := top.CNIConfig()
	if err != nil || cni == nil {
		t.Fatalf("two-sites-wan's network: %s, %v", cni, err)
	}
	return cni
}

// TestKubeNetworkIsTheLabsOwnWhenTheClusterCanMakeIt: the decision's every
// case. The cluster is asked about the CRD only when it matters, and a
// lab network it cannot make is refused with what to do, never dropped.
func TestKubeNetworkIsTheLabsOwnWhenTheClusterCanMakeIt(t *testing.T) {
	cni := wanCNI(t)
	for _, tc := range []struct {
		name       string
		cni        []byte
		podNetwork bool
		hasNADs    bool
		wantLAN    bool
		wantErr    error
		asked      bool
	}{
		{name: "no lab network: the Pod network", cni: nil, hasNADs: true},
		{name: "lab network, CRD there: a NAD", cni: cni, hasNADs: true, wantLAN: true, asked: true},
		{name: "lab network, no CRD: refused", cni: cni, wantErr: ErrNoNADCRD, asked: true},
		{name: "lab network, --pod-network: the Pod network", cni: cni, podNetwork: true, hasNADs: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			asked := false
			lan, err := kubeNetwork(tc.cni, tc.podNetwork, func() (bool, error) { asked = true; return tc.hasNADs, nil })
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error %v; want %v", err, tc.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), `"wan"`) || err != nil && !strings.Contains(err.Error(), "--pod-network") {
				t.Errorf("error %q names neither the network nor what to do", err)
			}
			if (lan != nil) != tc.wantLAN {
				t.Errorf("lab network %+v; want one: %v", lan, tc.wantLAN)
			}
			if asked != tc.asked {
				t.Errorf("asked the cluster: %v; want %v", asked, tc.asked)
			}
			if lan != nil && (lan.name != "wan" || lan.prefix != netip.MustParsePrefix("198.18.7.0/24")) {
				t.Errorf("lab network %q on %s; want wan on 198.18.7.0/24", lan.name, lan.prefix)
			}
		})
	}
	if _, err := kubeNetwork([]byte(`{"name":"x","plugins":[{"type":"bridge"}]}`), false, func() (bool, error) { return true, nil }); err == nil || !strings.Contains(err.Error(), "subnet") {
		t.Errorf("a network without a subnet: %v; want refused for its subnet", err)
	}
}

// TestOnLANReadsWhatMultusReported: a Pod is on the lab network only if
// Multus reported net1 at its planned address.
func TestOnLANReadsWhatMultusReported(t *testing.T) {
	addr := netip.MustParseAddr("198.18.7.2")
	status := func(s string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "admin-2", Annotations: map[string]string{kubenet.StatusAnnotation: s}}}
	}
	for _, tc := range []struct {
		name, status string
		ok           bool
	}{
		{"net1 at the address", `[{"name":"c2ckn-pods","interface":"eth0","ips":["100.64.64.5"]},{"name":"c2c1/wan","interface":"net1","ips":["198.18.7.2"]}]`, true},
		{"net1 elsewhere", `[{"interface":"net1","ips":["198.18.7.3"]}]`, false},
		{"eth0 only (no Multus)", `[{"interface":"eth0","ips":["198.18.7.2"]}]`, false},
		{"no annotation", ``, false},
	} {
		err := onLAN(status(tc.status), addr)
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v; want ok %v", tc.name, err, tc.ok)
		}
	}
}

// TestApiserverAcceptsThePlacersObjects creates what the placer makes for
// two-sites-wan on the real apiserver (kubetest): the run's namespace,
// Secret and NAD from newKubePlacer itself, then the broker's Service and
// two machines' Pods as place builds them (net1 at their addresses, the
// later one with the broker's host alias, since this cluster has no DNS).
// No kubelet runs here, so the Pods are made but never run. The placer's
// close then leaves nothing.
func TestApiserverAcceptsThePlacersObjects(t *testing.T) {
	env := kubetest.Start(t, kubetest.Options{Controllers: true})
	if env.External {
		t.Skip("kubetest: an existing cluster: it may have Multus' CRD and a DNS, which this test starts without")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	disco, err := discovery.NewDiscoveryClientForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	if has, err := kubenet.HasNADs(disco); err != nil || has {
		t.Fatalf("before the CRD: HasNADs = %v, %v; want false", has, err)
	}
	dyn, err := dynamic.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	if err := kubenet.InstallNADCRD(ctx, dyn); err != nil {
		t.Fatal(err)
	}
	id, err := NewRunID()
	if err != nil {
		t.Fatal(err)
	}
	pl, err := newKubePlacer(ctx, id, KubeSpec{Kubeconfig: env.Kubeconfig, Image: "c2clab.local/c2clab:test"}, wanCNI(t))
	if err != nil {
		t.Fatal(err)
	}
	p := pl.(*kubePlacer)
	closed := false
	t.Cleanup(func() {
		if !closed {
			p.close()
		}
	})
	if p.lan == nil || !p.alias {
		t.Fatalf("placer: lab network %v, host alias %v; want the NAD (the CRD is there) and the alias (no kube-dns here)", p.lan, p.alias)
	}
	nad, err := dyn.Resource(kubenet.NADResource).Namespace(id).Get(ctx, "wan", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the run's NAD: %v", err)
	}
	want, _ := kubenet.AttachConfig(wanCNI(t))
	if got := nad.Object["spec"].(map[string]any)["config"]; got != string(want) {
		t.Errorf("NAD config %v; want %s", got, want)
	}
	if _, err := p.core.Services(id).Create(ctx, p.brokerService("broker-1", map[string]uint16{"control": 40001, "data": 40002, "admin": 40003}), metav1.CreateOptions{}); err != nil {
		t.Fatalf("the apiserver refused the broker's Service: %v", err)
	}
	pods := createPods(ctx, t, p, "broker", "admin")
	if _, ok := pods[0].Annotations[kubenet.NetworksAnnotation]; !ok || len(pods[0].Spec.HostAliases) != 0 {
		t.Errorf("broker's Pod: annotations %v, host aliases %v; want net1 and no alias", pods[0].Annotations, pods[0].Spec.HostAliases)
	}
	var sel []kubenet.Selection
	if err := json.Unmarshal([]byte(pods[1].Annotations[kubenet.NetworksAnnotation]), &sel); err != nil || len(sel) != 1 || sel[0].Name != "wan" || sel[0].Interface != "net1" || sel[0].IPs[0] != "198.18.7.3/24" {
		t.Errorf("admin's networks %q (%v); want wan as net1 at 198.18.7.3/24", pods[1].Annotations[kubenet.NetworksAnnotation], err)
	}
	if a := pods[1].Spec.HostAliases; len(a) != 1 || a[0].IP != "100.64.64.9" || a[0].Hostnames[0] != "broker."+id+".svc" {
		t.Errorf("admin's host aliases %v; want broker.%s.svc at the broker Pod's 100.64.64.9", a, id)
	}
	closed = true
	if err := p.close(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.core.Namespaces().Get(ctx, id, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("namespace %s after close: %v; want gone", id, err)
	}
}

// createPods builds each machine's Pod as place does and creates it; once
// the first (the broker) is made, it stands as exposed at a made-up Pod
// address, which no kubelet gives here.
func createPods(ctx context.Context, t *testing.T, p *kubePlacer, machines ...string) []*corev1.Pod {
	t.Helper()
	var out []*corev1.Pod
	for i, m := range machines {
		addr, err := p.lan.next()
		if err != nil {
			t.Fatal(err)
		}
		pod := p.pod(m, podName(m, i+1))
		if err := p.attach(pod, addr); err != nil {
			t.Fatal(err)
		}
		made, err := p.core.Pods(p.runID).Create(ctx, pod, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("the apiserver refused %s's Pod: %v", m, err)
		}
		out = append(out, made)
		p.mu.Lock()
		p.brokerIP = netip.MustParseAddr("100.64.64.9")
		p.mu.Unlock()
	}
	return out
}
