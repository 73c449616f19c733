package main

import (
	"bytes"
	"cmp"
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/c2clab/c2clab/sim/kube"
	"github.com/c2clab/c2clab/sim/kube/kubetest"
)

// syncBuffer is a bytes.Buffer safe to read while the command writes it.
type syncBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestLabUpKubernetesCreatesAndDeletesTheWANLab runs the README's command,
// lab up --backend kubernetes topologies/two-sites-wan.yaml, against a
// real apiserver with a scheduler and a kwok node, and proves that the
// run's objects are there while it is up and all gone after Ctrl-C.
func TestLabUpKubernetesCreatesAndDeletesTheWANLab(t *testing.T) {
	env := kubetest.Start(t, kubetest.Options{Controllers: true, Scheduler: true, KWOK: true})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := kube.FromConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.InstallNADCRD(ctx); err != nil {
		t.Fatal(err)
	}
	env.AddNodes(ctx, t, map[string]map[string]string{"kwok-0": {"type": "kwok"}})
	upCtx, stop := context.WithCancel(ctx)
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		root := newRootCmd()
		root.SetOut(out)
		root.SetErr(out)
		root.SetArgs([]string{"lab", "up", "--backend", "kubernetes", "--ignore-links", "--kubeconfig", env.Kubeconfig, "--image", cmp.Or(os.Getenv("C2CLAB_KUBETEST_IMAGE"), "c2clab/c2clab:test"), "../../topologies/two-sites-wan.yaml"})
		done <- root.ExecuteContext(upCtx)
	}()
	for !strings.Contains(out.String(), "Ctrl-C deletes it") {
		select {
		case err := <-done:
			stop()
			t.Fatalf("lab up ended before it was up: %v\n%s", err, out)
		case <-time.After(100 * time.Millisecond):
		}
	}
	runs, err := c.Runs(ctx)
	if err != nil || len(runs) != 1 {
		stop()
		t.Fatalf("runs on the cluster while up: %v, %v", runs, err)
	}
	left, err := c.Left(ctx, runs[0].ID)
	if err != nil || left["pods"] != 6 || left["networks"] != 1 || left["services"] != 1 || left["secrets"] != 6 {
		t.Errorf("while up, the run has %v, %v; want 6 pods and secrets, the network and the broker service", left, err)
	}
	t.Logf("lab up printed:\n%s", out)
	stop()
	if err := <-done; err != nil {
		t.Fatalf("lab up: %v\n%s", err, out)
	}
	left, err = c.Left(ctx, runs[0].ID)
	for kind, n := range left {
		if n != 0 {
			t.Errorf("after lab up ended: %d %s of %s left", n, kind, runs[0].ID)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
}
