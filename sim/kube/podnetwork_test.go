package kube

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/c2clab/c2clab/sim/agent"
	"github.com/c2clab/c2clab/sim/endpoint"
	"github.com/c2clab/c2clab/sim/kube/kubenet"
	"github.com/c2clab/c2clab/sim/topology"
)

// podNetworkLab plans topologies/single-site.yaml for a cluster with its
// Pod network only.
func podNetworkLab(t *testing.T) Lab {
	t.Helper()
	_, l, err := planTopology(t, "single-site.yaml", Options{PodNetwork: true})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestPodNetworkPlanNeedsNoMultus proves what a PodNetwork plan asks of
// the cluster: no NAD and no networks annotation (nothing Multus would
// read), every machine at PodLoopback inside its own Pod, the agents'
// SOCKS5 and status API on every address of the Pod (eth0's is known only
// once it runs), and the broker named for Create to alias.
func TestPodNetworkPlanNeedsNoMultus(t *testing.T) {
	l := podNetworkLab(t)
	o, err := Build(l.Plan)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.NADs) != 0 {
		t.Errorf("%d NADs; want none on the Pod network", len(o.NADs))
	}
	if o.BrokerHost != "broker."+testRun+".svc" {
		t.Errorf("BrokerHost %q; want the broker Service's name", o.BrokerHost)
	}
	for _, p := range o.Pods {
		if _, ok := p.Annotations[kubenet.NetworksAnnotation]; ok {
			t.Errorf("pod %s carries %s: %q", p.Name, kubenet.NetworksAnnotation, p.Annotations[kubenet.NetworksAnnotation])
		}
	}
	devices := 0
	for _, m := range l.Plan.Machines {
		if m.Addr != PodLoopback {
			t.Errorf("machine %s at %s; want %s in its Pod", m.Name, m.Addr, PodLoopback)
		}
		if m.Role != RoleDevice {
			continue
		}
		devices++
		var ag agent.Config
		var svc endpoint.Config
		if err := json.Unmarshal(m.Files["agent.json"], &ag); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(m.Files["services.json"], &svc); err != nil {
			t.Fatal(err)
		}
		if ag.SOCKS != ":1080" || ag.Status != ":8081" {
			t.Errorf("%s: agent listens on %s and %s; want every address of the Pod", m.Name, ag.SOCKS, ag.Status)
		}
		if ag.InterfaceIP != PodLoopback.String() || svc.IP != PodLoopback.String() {
			t.Errorf("%s: agent's interface %s, services on %s; want both %s", m.Name, ag.InterfaceIP, svc.IP, PodLoopback)
		}
		if !strings.HasPrefix(ag.Broker.Control, o.BrokerHost+":") {
			t.Errorf("%s: agent dials %s; want %s", m.Name, ag.Broker.Control, o.BrokerHost)
		}
	}
	if devices != 4 {
		t.Errorf("%d devices planned; want single-site's 4", devices)
	}
}

// TestPodNetworkRefusesAppConnectors: an App Connector reaches its app
// servers on the lab network, which a Pod-network plan does not have.
func TestPodNetworkRefusesAppConnectors(t *testing.T) {
	top, _, err := planTopology(t, "two-sites-wan.yaml", Options{PodNetwork: true})
	if err == nil || !strings.Contains(err.Error(), "needs Multus") || !strings.Contains(err.Error(), top.Path) {
		t.Fatalf("planning %s on the Pod network: %v; want a refusal naming the file and Multus", top.Path, err)
	}
	if i := slices.IndexFunc(top.Nodes, func(n topology.Node) bool { return n.Role == topology.RoleConnector }); i < 0 {
		t.Fatalf("%s has no App Connector; the test needs one", top.Path)
	}
}

// TestNoClusterDNSAliasesTheBrokerOnTheLabNetwork: a Multus plan for a
// cluster without DNS keeps its NAD and every Pod's net1 address, and
// names the broker for Create to alias; without the option it does not,
// and the Pods resolve the Service.
func TestNoClusterDNSAliasesTheBrokerOnTheLabNetwork(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opts  Options
		alias string
	}{
		{"cluster DNS", Options{}, ""},
		{"no cluster DNS", Options{NoClusterDNS: true}, "broker." + testRun + ".svc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, l, err := planTopology(t, "two-sites-wan.yaml", tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			o, err := Build(l.Plan)
			if err != nil {
				t.Fatal(err)
			}
			if o.BrokerHost != tc.alias {
				t.Errorf("BrokerHost %q; want %q", o.BrokerHost, tc.alias)
			}
			if len(o.NADs) != 1 {
				t.Errorf("%d NADs; want the lab network's", len(o.NADs))
			}
			for _, p := range o.Pods {
				if !strings.Contains(p.Annotations[kubenet.NetworksAnnotation], `"interface":"net1"`) {
					t.Errorf("pod %s networks %q; want net1", p.Name, p.Annotations[kubenet.NetworksAnnotation])
				}
			}
		})
	}
}
