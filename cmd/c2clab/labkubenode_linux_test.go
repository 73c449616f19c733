package main

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/c2clab/c2clab/sim/kube"
	"github.com/c2clab/c2clab/sim/kube/kubenode"
	"github.com/c2clab/c2clab/sim/kube/kubetest"
)

// TestLabUpKubernetesPodNetworkRelaysOnARealKubelet runs the documented
// command, lab up --backend kubernetes --pod-network
// topologies/single-site.yaml, against the one-node data plane
// (kubenode: a real kubelet on containerd): every Pod becomes Ready, a
// connection is relayed from the admin's agent to desktop-linux's echo
// service through the broker's Pod, and Ctrl-C leaves no object and no
// container.
func TestLabUpKubernetesPodNetworkRelaysOnARealKubelet(t *testing.T) {
	env := kubetest.Start(t, kubetest.Options{Controllers: true, Scheduler: true})
	node := kubenode.Start(t, env)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ref, err := node.ImportC2clab(ctx)
	if err != nil {
		t.Fatal(err)
	}
	u := startLabUp(ctx, t, node.Logs, "--backend", "kubernetes", "--pod-network", "--kubeconfig", env.Kubeconfig,
		"--image", ref, "--pull-policy", "Never", "../../topologies/single-site.yaml")
	c, err := kube.FromConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := c.Runs(ctx)
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs on the cluster while up: %v, %v", runs, err)
	}
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := cs.CoreV1().Pods(kube.Namespace(runs[0].ID)).Get(ctx, "admin", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	socks := net.JoinHostPort(admin.Status.PodIP, strconv.Itoa(kube.PortSOCKS))
	if err := kubenode.Echo(ctx, socks, "desktop-LNX14-AC.example.com", 7007); err != nil {
		t.Fatalf("%v\nlab up printed:\n%s\nthe Pods' logs:\n%s", err, u.out, node.Logs())
	}
	if err := u.stop(); err != nil {
		t.Fatalf("lab up: %v\n%s", err, u.out)
	}
	left, err := c.Left(ctx, runs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	for kind, n := range left {
		if n != 0 {
			t.Errorf("after lab up ended: %d %s of %s left", n, kind, runs[0].ID)
		}
	}
	if err := node.WaitNoContainers(ctx, time.Minute); err != nil {
		t.Errorf("after lab up ended: %v", err)
	}
}
