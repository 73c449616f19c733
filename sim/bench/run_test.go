package bench

import (
	"os"
	"os/exec"
	"testing"

	"github.com/c2clab/c2clab/sim/lab"
	"github.com/c2clab/c2clab/sim/node"
)

// nodeEnv marks a re-exec of this test binary as a lab node.
const nodeEnv = "C2CLAB_TEST_NODE"

func TestMain(m *testing.M) {
	if os.Getenv(nodeEnv) == "1" {
		os.Exit(node.Main(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// TestRunMeasuresEveryPathOnOneLab runs a small matrix on the loopback
// backend: every path is measured or says why not, every cell has Count
// runs per path and the relay's ratios, and socat and iperf3 are left out
// cleanly when missing. It asserts no speed.
func TestRunMeasuresEveryPathOnOneLab(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a lab")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var steps []Progress
	cfg := Config{Command: []string{exe}, Env: []string{nodeEnv + "=1"}, Backend: lab.BackendLocal, Dir: t.TempDir(),
		Sizes: []int64{2 << 20}, Streams: []int{1, 2}, Count: 2, RoundTrips: 50, Setups: 5, IperfSeconds: 1,
		Progress: func(p Progress) { steps = append(steps, p) }}
	r, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, socatErr := exec.LookPath("socat")
	_, iperfErr := exec.LookPath("iperf3")
	want := 3
	if socatErr == nil {
		want = 4
	}
	if got := r.Available(); len(got) != want {
		t.Fatalf("measured %v (paths %+v), want %d paths", got, r.Paths, want)
	}
	if len(r.Cells) != 2 {
		t.Fatalf("%d cells, want 2 (1 and 2 streams)", len(r.Cells))
	}
	for _, c := range r.Cells {
		for _, p := range r.Available() {
			if n := len(c.Runs[p]); n != 2 {
				t.Errorf("cell %dMiB x%d path %s: %d runs, want 2", c.Size>>20, c.Streams, p, n)
			}
		}
		if got := c.Ratios(PathDirect); len(got) != 2 || got[0] <= 0 {
			t.Errorf("cell x%d: relay/direct ratios %v", c.Streams, got)
		}
		// Down streams count from the read that completes the warm-up, so
		// each measures a little less than its 2 MiB; both together more.
		if c.Streams == 2 && c.Runs[PathRelay][0].Bytes <= 2<<20 {
			t.Errorf("two streams moved %d bytes, want more than one stream's %d", c.Runs[PathRelay][0].Bytes, 2<<20)
		}
	}
	for _, p := range r.Available() {
		if r.RoundTrips[p].Count != 50 || r.Setup[p].Count != 5 {
			t.Errorf("%s: %d round trips, %d setups; want 50 and 5", p, r.RoundTrips[p].Count, r.Setup[p].Count)
		}
	}
	if r.Iperf3.Available != (iperfErr == nil) || (iperfErr != nil && r.Iperf3.Note == "") {
		t.Errorf("iperf3 agreement %+v, iperf3 on PATH: %v", r.Iperf3, iperfErr == nil)
	}
	if last := steps[len(steps)-1]; last.Done+1 != last.Total {
		t.Errorf("last progress step %d of %d, want the last", last.Done+1, last.Total)
	}
}
