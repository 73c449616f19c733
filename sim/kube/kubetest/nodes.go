package kubetest

import (
	"context"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
)

// AddNodes registers kwok nodes, each name with its labels, room for 110
// Pods, and waits until kwok has made every one Ready. Start must have had
// Options.KWOK. On an External cluster it adds nothing.
func (e *Env) AddNodes(ctx context.Context, t testing.TB, nodes map[string]map[string]string) {
	t.Helper()
	if e.External {
		t.Logf("kubetest: an existing cluster: its own nodes stand in for %d kwok nodes", len(nodes))
		return
	}
	c, err := corev1client.NewForConfig(e.Config)
	if err != nil {
		t.Fatal(err)
	}
	room := corev1.ResourceList{corev1.ResourcePods: resource.MustParse("110"), corev1.ResourceCPU: resource.MustParse("32"), corev1.ResourceMemory: resource.MustParse("128Gi")}
	for name, labels := range nodes {
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, Annotations: map[string]string{KWOKAnnotation: "fake"}},
			Status: corev1.NodeStatus{Allocatable: room, Capacity: room}}
		if _, err := c.Nodes().Create(ctx, n, metav1.CreateOptions{}); err != nil {
			t.Fatalf("kubetest: add node %q: %v", name, err)
		}
	}
	for {
		list, err := c.Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ready := 0
		for _, n := range list.Items {
			for _, cond := range n.Status.Conditions {
				if _, ours := nodes[n.Name]; ours && cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
					ready++
				}
			}
		}
		if ready == len(nodes) {
			untaint(ctx, t, c, nodes)
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("kubetest: %d of %d kwok nodes Ready: %v", ready, len(nodes), ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// untaint removes the not-ready taint the apiserver puts on every new
// Node, once kwok has made it Ready. In a cluster the node lifecycle
// controller does this; it is not run here because kwok's fast stages
// send no heartbeats, and that controller would then evict every Pod.
func untaint(ctx context.Context, t testing.TB, c corev1client.CoreV1Interface, nodes map[string]map[string]string) {
	t.Helper()
	for name := range nodes {
		n, err := c.Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("kubetest: %v", err)
		}
		n.Spec.Taints = slices.DeleteFunc(n.Spec.Taints, func(tt corev1.Taint) bool { return tt.Key == corev1.TaintNodeNotReady })
		if _, err := c.Nodes().Update(ctx, n, metav1.UpdateOptions{}); err != nil {
			t.Fatalf("kubetest: untaint node %q: %v", name, err)
		}
	}
}
