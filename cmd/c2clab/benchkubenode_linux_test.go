package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/c2clab/c2clab/sim/bench"
	"github.com/c2clab/c2clab/sim/kube"
	"github.com/c2clab/c2clab/sim/kube/kubetest"
	"github.com/c2clab/c2clab/sim/pod"
)

// TestBenchKubernetesOnARealKubelet runs the documented command, bench
// --backend kubernetes --quick, against the one-node data plane (kubenode:
// a real kubelet on containerd, the c2clab image imported) and reads its
// bench.json: the run says kubernetes; relay, direct and splice moved
// bytes on the Pods; the relay's and the splice's runs carry a CPU cost
// read by the machine processes in their Pods (and direct none, as on
// every backend); socat and iperf3, which the image does not hold, are
// not measured and say why; every node of the lab is placed in a Pod on
// a node; and the run's namespace is gone afterwards. Then again with
// --impaired=delay=5ms: the emulator in the desktop's Pod is on every
// path, so no path's round trip is much shorter than 10 ms.
//
// It checks what was measured, not how fast: the figures it logs are for
// docs/NETWORK.md, and beside the package's other kube tests (Parallel)
// they are the load's as much as the relay's.
func TestBenchKubernetesOnARealKubelet(t *testing.T) {
	kubetest.Parallel(t)
	env := kubetest.Start(t, kubetest.Options{Controllers: true, Scheduler: true})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	image, pull, logs, _ := wanLabCluster(ctx, t, env)
	c, err := kube.FromConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		// minRTT is the least a round trip on every path can take.
		minRTT time.Duration
	}{
		{"quick", nil, 0},
		// The desktop's link delayed 5 ms each way by the emulator in its
		// Pod: every path ends at the desktop, so every round trip takes
		// about 10 ms, against tens of microseconds unimpaired here. 10%
		// off for the emulator's release timing and the histogram's
		// buckets: one run's shortest were 9.92 and 9.95 ms.
		{"quick impaired", []string{"--impaired=delay=5ms"}, 9 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := runIDs(ctx, t, c)
			res := runKubeBench(ctx, t, env.Kubeconfig, image, pull, logs, tc.args...)
			checkKubeBench(t, res)
			for _, path := range res.Available() {
				if rt := res.RoundTrips[path]; rt.Min < tc.minRTT {
					t.Errorf("%s: shortest round trip %v, want at least %v (link %q)", path, rt.Min, tc.minRTT, res.Link)
				}
			}
			for _, id := range runIDs(ctx, t, c) {
				if !slices.Contains(before, id) {
					t.Errorf("run %s is still on the cluster after bench", id)
				}
			}
		})
	}
}

// runKubeBench runs bench --backend kubernetes --quick with args on the
// cluster and reads its bench.json.
func runKubeBench(ctx context.Context, t *testing.T, kubeconfig, image, pull string, logs func() string, args ...string) bench.Result {
	t.Helper()
	tmp := t.TempDir()
	out := filepath.Join(tmp, "out")
	cmd := exec.CommandContext(ctx, os.Args[0], append([]string{"bench", "--backend", "kubernetes", "--quick", "--kubeconfig", kubeconfig,
		"--image", image, "--pull-policy", pull, "--out", out}, args...)...)
	cmd.Env = append(os.Environ(), cliEnv+"=1", "TMPDIR="+tmp)
	start := time.Now()
	table, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bench --backend kubernetes %v: %v\n%s\nthe Pods' logs:\n%s", args, err, table, logs())
	}
	t.Logf("bench --backend kubernetes --quick %v took %v:\n%s", args, time.Since(start).Round(time.Second), table)
	res, err := bench.ReadJSON(filepath.Join(out, bench.JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// checkKubeBench checks a quick kubernetes run's Result as the test's
// comment says.
func checkKubeBench(t *testing.T, res bench.Result) {
	t.Helper()
	if res.Backend != "kubernetes" {
		t.Errorf("backend %q, want kubernetes", res.Backend)
	}
	if got, want := res.Available(), []string{bench.PathRelay, bench.PathDirect, bench.PathSplice}; !slices.Equal(got, want) {
		t.Errorf("measured paths %v, want %v", got, want)
	}
	for _, p := range res.Paths {
		switch {
		case p.Name == bench.PathSocat && (p.Available || !strings.Contains(p.Note, "not measured") || !strings.Contains(p.Note, "c2clab")):
			t.Errorf("socat: %+v, want not measured, saying the Pod's image holds only c2clab", p)
		case (p.Name == bench.PathRelay || p.Name == bench.PathSplice) && p.CostSource != pod.CPUSource:
			t.Errorf("%s: cost source %q (note %q), want %q", p.Name, p.CostSource, p.CostNote, pod.CPUSource)
		}
	}
	if res.Iperf3.Available || !strings.Contains(res.Iperf3.Note, "iperf3 not measured") {
		t.Errorf("iperf3 agreement %+v, want not measured, with the reason", res.Iperf3)
	}
	if len(res.Cells) != 1 {
		t.Fatalf("%d cells, want --quick's one", len(res.Cells))
	}
	cell := res.Cells[0]
	for _, path := range res.Available() {
		runs := cell.Runs[path]
		if len(runs) != res.Count {
			t.Errorf("%s: %d runs, want %d", path, len(runs), res.Count)
		}
		for i, s := range runs {
			costed := s.Cost != nil && s.Cost.CPU.Total() > 0
			switch {
			case s.Bytes <= 0 || s.Interval <= 0:
				t.Errorf("%s run %d: %d bytes in %v, want bytes moved", path, i+1, s.Bytes, s.Interval)
			case path == bench.PathDirect && s.Cost != nil:
				t.Errorf("direct run %d has a cost %+v; its kernel forwarding has no process of its own", i+1, s.Cost)
			case path != bench.PathDirect && !costed:
				t.Errorf("%s run %d: cost %+v, want CPU read from the Pods", path, i+1, s.Cost)
			}
		}
	}
	if run := res.SetupRuns[bench.PathRelay]; run.Cost == nil || run.Count == 0 {
		t.Errorf("relay setups %+v, want a cost per 1,000 setups", run)
	}
	if res.Link != "" {
		t.Logf("the desktop's link: %s", res.Link)
	}
	placed := regexp.MustCompile(`^pod \S+ on node \S+$`)
	for _, n := range []string{"broker", "admin-agent", "desktop-agent", "splice-5201"} {
		if !placed.MatchString(res.Where[n]) {
			t.Errorf("node %s ran in %q, want its Pod and node (all: %v)", n, res.Where[n], res.Where)
		}
	}
	if len(res.Notes) == 0 || !strings.Contains(res.Notes[0], "runner") {
		t.Errorf("notes %q, want the runner's hop into the Pod network", res.Notes)
	}
	t.Logf("relay/direct %.2f, relay/splice %.2f; relay cpu-s/GiB %.3f, splice %.3f; relay cpu-s/1k setups %.3f; load %s to %s",
		bench.Median(cell.Ratios(bench.PathDirect)), bench.Median(cell.Ratios(bench.PathSplice)),
		bench.Median(cell.CPUPerGiB(bench.PathRelay)), bench.Median(cell.CPUPerGiB(bench.PathSplice)),
		res.SetupRuns[bench.PathRelay].CPUPer1k(), res.LoadStart, res.LoadEnd)
}
