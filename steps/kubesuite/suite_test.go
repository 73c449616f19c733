// Package kubesuite runs conformance scenarios on the kubernetes backend:
// every machine a Pod on a real kubelet (sim/kube/kubenode: the pinned
// kubelet on Debian's containerd, one node, its Pod network a bridge the
// runner reaches), against the pinned control plane sim/kube/kubetest
// starts, or against the cluster ci/kube names (C2CLAB_KUBETEST_KUBECONFIG
// and C2CLAB_KUBETEST_IMAGE; the runner must reach its Pod addresses).
//
// It runs a subset, the feature files in subset, so the suite's wall time
// does not grow by a whole pass; -kubesuite.all runs every file, and
// -godog.tags selects scenarios from every file instead. Scenarios the
// backend cannot run skip with the lab's reason (lab.Backend.Supports),
// never counted passed.
package kubesuite

import (
	"context"
	"flag"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/c2clab/c2clab/sim/kube/kubenode"
	"github.com/c2clab/c2clab/sim/kube/kubetest"
	"github.com/c2clab/c2clab/sim/lab"
	"github.com/c2clab/c2clab/steps"
	"github.com/c2clab/c2clab/steps/stepstest"
)

func TestMain(m *testing.M) { stepstest.Main(m) }

// subset is what runs by default, chosen for what the backend does
// differently, not for coverage (the other backends run every file):
// hostname validation's regex count (the relay through the broker's Pod
// and refusals), the activity log (a frozen agent: SIGSTOP in its Pod),
// the faults (a broker killed and restarted in its Pod at the same
// address, an agent killed mid-transfer), link shaping (the emulator
// spliced into the device's Pod) and the network-lab check, which must
// skip with its reason. About 13 s a scenario, three at a time.
var subset = []string{
	"hostname_regex_count.feature",
	"activity_log.feature",
	"faults.feature",
	"link_shaping.feature",
	"network_lab.feature",
}

// subsetTags leaves the 50 Mbit/s rate scenario out of the default subset:
// through the emulator in a device's Pod it measured 47.4 Mbit/s at load
// 3-6 but 39.0 at load 13-17 (its bound is 10% below the rate), and the
// cause is not established, so on a busy CI machine it would fail without
// saying whether the relay or the machine is at fault. It runs with
// -godog.tags=@link-rate (docs/NETWORK.md, Kubernetes).
const subsetTags = "~@link-rate"

// all runs every feature file, the netns-equivalent suite, instead of the
// subset: .ci/run does it after go test ./... (docs/NETWORK.md,
// Kubernetes), which keeps go test's share small.
var all = flag.Bool("kubesuite.all", false, "run every feature file on the kubernetes backend, not the default subset")

func TestFeaturesKubernetes(t *testing.T) {
	env := kubetest.Start(t, kubetest.Options{Controllers: true, Scheduler: true})
	// A scenario's lab is closed once its Pods are gone; waiting for each
	// namespace too would add the namespace controller's 5 s to every
	// scenario (11 s each before). assertNoRuns waits for them all.
	spec := lab.KubeSpec{Kubeconfig: env.Kubeconfig, Image: os.Getenv("C2CLAB_KUBETEST_IMAGE"), LeaveNamespaceDeleting: true}
	if !env.External {
		node := kubenode.Start(t, env)
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
		defer cancel()
		ref, err := node.ImportC2clab(ctx)
		if err != nil {
			t.Fatal(err)
		}
		spec.Image, spec.PullPolicy = ref, "Never" // imported; nothing can be pulled here
	} else if spec.Image == "" {
		t.Skip("kubesuite: an external cluster needs C2CLAB_KUBETEST_IMAGE, the c2clab image loaded onto its nodes (ci/kube does both)")
	}
	paths, tags := subset, subsetTags
	if *all {
		paths, tags = nil, ""
	}
	if *stepstest.Tags != "" {
		paths, tags = nil, *stepstest.Tags
	}
	cfg := steps.Config{Backend: lab.BackendKubernetes, Kube: spec}
	stepstest.RunPaths(t, cfg, tags, os.DirFS("../../fixtures"), paths)
	assertNoRuns(t, env)
}

// assertNoRuns checks that every lab deleted its namespace: none labelled
// with a run is left on the cluster, beyond those of other processes (an
// external cluster's other users). A namespace may still be terminating,
// emptied of its Pods by its lab's Close (KubeSpec.LeaveNamespaceDeleting):
// it is given the namespace controller's 5 s grace and a margin, then
// reported with what it still holds.
func assertNoRuns(t *testing.T, env *kubetest.Env) {
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	host, _ := os.Hostname()
	for {
		list, err := cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: lab.KubeLabelRun})
		if err != nil {
			t.Fatal(err)
		}
		left := slices.DeleteFunc(list.Items, func(ns corev1.Namespace) bool {
			return env.External && ns.Annotations[lab.KubeAnnotationOwner] != host+"/"+strconv.Itoa(os.Getpid())
		})
		if len(left) == 0 {
			return
		}
		select {
		case <-ctx.Done():
			for _, ns := range left {
				held := "its pods not listed"
				if pods, err := cs.CoreV1().Pods(ns.Name).List(context.Background(), metav1.ListOptions{}); err == nil {
					held = strconv.Itoa(len(pods.Items)) + " pods"
				}
				t.Errorf("namespace %s of a lab is still there after 30 s (%s, %s)", ns.Name, ns.Status.Phase, held)
			}
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}
