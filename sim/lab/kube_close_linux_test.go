package lab

import (
	"context"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/c2clab/c2clab/sim/kube/kubetest"
)

// TestCloseCanLeaveTheEmptiedNamespaceToItsController: with
// LeaveNamespaceDeleting, close deletes the run's Pods itself and returns
// once none is left, the namespace deleting; the namespace controller,
// which holds a deleted namespace 5 s before it deletes its content,
// removes it afterwards. Without the option close waits for that too
// (TestApiserverAcceptsThePlacersObjects).
func TestCloseCanLeaveTheEmptiedNamespaceToItsController(t *testing.T) {
	kubetest.Parallel(t)
	env := kubetest.Start(t, kubetest.Options{Controllers: true})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	id, err := NewRunID()
	if err != nil {
		t.Fatal(err)
	}
	pl, err := newKubePlacer(ctx, id, KubeSpec{Kubeconfig: env.Kubeconfig, Image: "c2clab.local/c2clab:test", PodNetwork: true, LeaveNamespaceDeleting: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := pl.(*kubePlacer)
	for i, m := range []string{"broker", "admin"} {
		if _, err := p.core.Pods(id).Create(ctx, p.pod(m, podName(m, i+1)), metav1.CreateOptions{}); err != nil {
			p.close()
			t.Fatal(err)
		}
	}
	start := time.Now()
	if err := p.close(); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	if pods, err := p.core.Pods(id).List(ctx, metav1.ListOptions{}); err != nil || len(pods.Items) != 0 {
		t.Errorf("after close: %v pods (%v); want none", len(pods.Items), err)
	}
	ns, err := p.core.Namespaces().Get(ctx, id, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		t.Errorf("close took %s and the namespace is gone: it waited for the namespace controller; want the namespace left to it", took)
	case err != nil:
		t.Fatal(err)
	case ns.DeletionTimestamp == nil:
		t.Errorf("after close the namespace is not deleting (%s)", ns.Status.Phase)
	}
	for {
		_, err := p.core.Namespaces().Get(ctx, id, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("namespace %s still there 2 minutes on: %v", id, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
