package kube

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/c2clab/c2clab/sim/kube/kubetest"
)

// TestApiserverAliasesTheBrokerOnThePodNetwork creates single-site's
// Pod-network plan on a real apiserver with a scheduler and a kwok node,
// which gives Pods addresses: the broker's Pod is created first, and every
// other Pod carries a host alias from the broker's Service name to that
// Pod's address, which the apiserver validated and stored.
func TestApiserverAliasesTheBrokerOnThePodNetwork(t *testing.T) {
	t.Parallel() // a control plane of its own, and a node slot (docs/NETWORK.md)
	env := kubetest.Start(t, kubetest.Options{Controllers: true, Scheduler: true, KWOK: true})
	if env.External {
		t.Skip("kubetest: an existing cluster: TestPodsRelayOnARealKubelet's relay is the check there")
	}
	c := connect(t, env)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	env.AddNodes(ctx, t, map[string]map[string]string{"kwok-pods": {}})
	l := podNetworkLab(t)
	o, err := Build(l.Plan)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deleteQuietly(c, testRun) })
	if err := c.Create(ctx, o); err != nil {
		t.Fatalf("create: %v", err)
	}
	pods, err := c.core.Pods(testRun).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	brokerIP := ""
	for _, p := range pods.Items {
		if p.Name == "broker" {
			brokerIP = p.Status.PodIP
		}
	}
	if brokerIP == "" || len(pods.Items) != len(o.Pods) {
		t.Fatalf("broker's address %q, %d of %d pods; want the broker addressed and every pod made", brokerIP, len(pods.Items), len(o.Pods))
	}
	for _, p := range pods.Items {
		if p.Name == "broker" {
			if len(p.Spec.HostAliases) != 0 {
				t.Errorf("broker carries host aliases %v; want none", p.Spec.HostAliases)
			}
			continue
		}
		h := p.Spec.HostAliases
		if len(h) != 1 || h[0].IP != brokerIP || len(h[0].Hostnames) != 1 || h[0].Hostnames[0] != o.BrokerHost {
			t.Errorf("pod %s host aliases %+v; want %s -> %s", p.Name, h, o.BrokerHost, brokerIP)
		}
	}
	assertGone(ctx, t, c, testRun)
}
