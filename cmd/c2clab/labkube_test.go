package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/c2clab/c2clab/sim/kube"
	"github.com/c2clab/c2clab/sim/kube/kubetest"
	"github.com/c2clab/c2clab/sim/lab"
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

// backgroundLabUp is a `c2clab lab up` running in the background, as a user's
// terminal holds one.
type backgroundLabUp struct {
	out    *syncBuffer
	done   chan error
	cancel context.CancelFunc
	once   sync.Once
	err    error // how lab up ended; set once
}

// startLabUp runs lab up with args until it says it is up; failLogs adds
// what a failure should show besides lab up's own output. Ctrl-C (stop)
// also comes at the test's cleanup, before the cluster it runs on stops.
func startLabUp(ctx context.Context, t *testing.T, failLogs func() string, args ...string) *backgroundLabUp {
	t.Helper()
	upCtx, cancel := context.WithCancel(ctx)
	u := &backgroundLabUp{out: &syncBuffer{}, done: make(chan error, 1), cancel: cancel}
	t.Cleanup(func() { u.stop() })
	go func() {
		root := newRootCmd()
		root.SetOut(u.out)
		root.SetErr(u.out)
		root.SetArgs(append([]string{"lab", "up"}, args...))
		u.done <- root.ExecuteContext(upCtx)
	}()
	for !strings.Contains(u.out.String(), "Ctrl-C stops it") {
		select {
		case err := <-u.done:
			u.once.Do(func() { u.err = err })
			t.Fatalf("lab up ended before it was up: %v\n%s\n%s", err, u.out, failLogs())
		case <-time.After(100 * time.Millisecond):
		}
	}
	return u
}

// stop is Ctrl-C; it returns how lab up ended.
func (u *backgroundLabUp) stop() error {
	u.once.Do(func() {
		u.cancel()
		u.err = <-u.done
	})
	return u.err
}

func noLogs() string { return "" }

// testCluster starts the pinned control plane with opts and returns it with
// a 3-minute context (cancelled at cleanup) and a client of the backend;
// nad installs the NAD CRD, as Multus would.
func testCluster(t *testing.T, opts kubetest.Options, nad bool) (*kubetest.Env, context.Context, *kube.Cluster) {
	t.Helper()
	env := kubetest.Start(t, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	c, err := kube.FromConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	if nad {
		if err := c.InstallNADCRD(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return env, ctx, c
}

// TestLabDownKubernetesAllRemovesCrashedRunsOnly leaves two runs on the
// cluster as a crashed lab up would: one started on this host by a process
// that is gone, one started on another host. lab down --all removes the
// first and keeps the second, which naming it then removes.
func TestLabDownKubernetesAllRemovesCrashedRunsOnly(t *testing.T) {
	kubetest.Parallel(t)
	env, ctx, c := testCluster(t, kubetest.Options{Controllers: true}, true)
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	crashed := leaveRun(ctx, t, env, c, host+"/"+strconv.Itoa(dead.Process.Pid))
	foreign := leaveRun(ctx, t, env, c, "another-host/1")
	down := func(args ...string) string {
		var out bytes.Buffer
		root := newRootCmd()
		root.SetOut(&out)
		root.SetErr(&out)
		root.SetArgs(append([]string{"lab", "down", "--backend", "kubernetes", "--kubeconfig", env.Kubeconfig}, args...))
		if err := root.ExecuteContext(ctx); err != nil {
			t.Fatalf("lab down %v: %v\n%s", args, err, &out)
		}
		return out.String()
	}
	out := down("--all")
	if !strings.Contains(out, "removing "+crashed) || !strings.Contains(out, "keeping "+foreign+": started on host another-host") {
		t.Errorf("lab down --all said:\n%s\nwant %s removed and %s kept", out, crashed, foreign)
	}
	assertRuns(ctx, t, c, foreign)
	down(foreign)
	assertRuns(ctx, t, c)
}

// leaveRun leaves what a lab up on the cluster that died leaves there, a
// run's namespace labelled with its ID and annotated with owner (sim/lab's
// kubernetes placer makes it so), and returns the run's ID.
func leaveRun(ctx context.Context, t *testing.T, env *kubetest.Env, c *kube.Cluster, owner string) string {
	t.Helper()
	id, err := lab.NewRunID()
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: id, Labels: map[string]string{lab.KubeLabelRun: id},
		Annotations: map[string]string{lab.KubeAnnotationOwner: owner}}}
	t.Cleanup(func() { deleteQuietly(c, id) })
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return id
}

func assertRuns(ctx context.Context, t *testing.T, c *kube.Cluster, want ...string) {
	t.Helper()
	got := runIDs(ctx, t, c)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("runs on the cluster: %v; want %v", got, want)
	}
}

// deleteQuietly is the cleanup of a test's run, bounded so that a control
// plane that cannot finish a deletion does not hang the test binary.
func deleteQuietly(c *kube.Cluster, runID string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c.Delete(ctx, runID)
}

// TestDetachedKubeLabGetsTheClusterFlags: lab up --detach's own process is
// told the cluster and image, on the kubernetes backend only.
func TestDetachedKubeLabGetsTheClusterFlags(t *testing.T) {
	f := labUpFlags{backend: kube.Backend, kube: kubeFlags{kubeconfig: "/k/config", image: "c2clab/c2clab:x", pullPolicy: "Never", podNetwork: true}}
	got := strings.Join(childArgs(f, []string{"top.yaml"}), " ")
	for _, want := range []string{"--backend kubernetes top.yaml", "--kubeconfig /k/config", "--image c2clab/c2clab:x", "--pull-policy Never", "--pod-network"} {
		if !strings.Contains(got, want) {
			t.Errorf("child's args %q lack %q", got, want)
		}
	}
	if strings.Contains(got, "--context") {
		t.Errorf("child's args %q name a context none was given", got)
	}
	f.backend = lab.BackendNetns
	if got := strings.Join(childArgs(f, nil), " "); strings.Contains(got, "--image") {
		t.Errorf("netns child's args %q carry the kubernetes flags", got)
	}
}

// TestLabUpRefusesATopologysNetworkWithoutTheNADCRD: on a cluster without
// Multus' CRD, lab up of a topology with a network refuses, naming the
// network and --pod-network, before it makes anything on the cluster;
// with --pod-network it says it leaves the network out and goes on to
// place the broker (which no kubelet runs here: it gives up then, and
// deletes its run).
func TestLabUpRefusesATopologysNetworkWithoutTheNADCRD(t *testing.T) {
	kubetest.Parallel(t)
	env, ctx, c := testCluster(t, kubetest.Options{Controllers: true}, false)
	up := func(ctx context.Context, args ...string) (string, error) {
		var out bytes.Buffer
		root := newRootCmd()
		root.SetOut(&out)
		root.SetErr(&out)
		root.SetArgs(append([]string{"lab", "up", "--backend", "kubernetes", "--kubeconfig", env.Kubeconfig, "--image", "c2clab.local/c2clab:none"}, args...))
		err := root.ExecuteContext(ctx)
		return out.String(), err
	}
	out, err := up(ctx, "../../topologies/two-sites-wan.yaml")
	if err == nil || !strings.Contains(err.Error(), `network "wan"`) || !strings.Contains(err.Error(), "--pod-network") {
		t.Errorf("lab up without the CRD: %v\n%s\nwant a refusal naming the network and --pod-network", err, out)
	}
	assertRuns(ctx, t, c)
	short, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	out, _ = up(short, "--pod-network", "../../topologies/two-sites-wan.yaml") // no kubelet: the broker's Pod never runs
	if !strings.Contains(out, `--pod-network: the topology's network "wan" is not made`) {
		t.Errorf("lab up --pod-network said:\n%s\nwant that it leaves the network out", out)
	}
	assertRuns(ctx, t, c)
}

// runIDs are the runs the cluster lists now.
func runIDs(ctx context.Context, t *testing.T, c *kube.Cluster) []string {
	t.Helper()
	runs, err := c.Runs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range runs {
		ids = append(ids, r.ID)
	}
	return ids
}
