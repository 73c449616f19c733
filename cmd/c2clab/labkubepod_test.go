package main

import (
	"cmp"
	"os"
	"strings"
	"testing"

	"github.com/c2clab/c2clab/sim/kube/kubetest"
)

// TestLabUpKubernetesPodNetwork runs lab up --backend kubernetes
// --pod-network topologies/single-site.yaml against a real apiserver with
// a scheduler and a kwok node, without the NAD CRD installed (a cluster
// without Multus): the run's Pods, Secrets and broker Service are made and
// no network, and Ctrl-C removes them all.
func TestLabUpKubernetesPodNetwork(t *testing.T) {
	env, ctx, c := testCluster(t, kubetest.Options{Controllers: true, Scheduler: true, KWOK: true}, false)
	env.AddNodes(ctx, t, map[string]map[string]string{"kwok-0": {"type": "kwok"}})
	u := startLabUp(ctx, t, noLogs, "--backend", "kubernetes", "--pod-network", "--kubeconfig", env.Kubeconfig,
		"--image", cmp.Or(os.Getenv("C2CLAB_KUBETEST_IMAGE"), "c2clab/c2clab:test"), "../../topologies/single-site.yaml")
	runs, err := c.Runs(ctx)
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs on the cluster while up: %v, %v", runs, err)
	}
	left, err := c.Left(ctx, runs[0].ID)
	if err != nil || left["pods"] != 5 || left["secrets"] != 5 || left["services"] != 1 || left["networks"] != 0 {
		t.Errorf("while up, the run has %v, %v; want 5 pods and secrets, the broker service and no network", left, err)
	}
	if !strings.Contains(u.out.String(), "of its Pod's address") {
		t.Errorf("lab up does not say where the agents listen on the Pod network:\n%s", u.out)
	}
	if err := u.stop(); err != nil {
		t.Fatalf("lab up: %v\n%s", err, u.out)
	}
	left, err = c.Left(ctx, runs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	for kind, n := range left {
		if n != 0 {
			t.Errorf("after lab up ended: %d %s of %s left", n, kind, runs[0].ID)
		}
	}
}
