package steps

import (
	"flag"
	"os"
	"os/exec"
	"testing"

	"github.com/c2clab/c2clab/features"
	"github.com/c2clab/c2clab/sim/lab"
	"github.com/c2clab/c2clab/sim/node"
)

// nodeEnv marks a re-exec of this test binary as a lab node, so the suite
// needs no separately built c2clab binary.
const nodeEnv = "C2CLAB_TEST_NODE"

var (
	tags = flag.String("godog.tags", "", "godog tag expression selecting scenarios, e.g. '@HV-2'")
	seed = flag.Int64("godog.seed", -1, "scenario order: -1 random (printed), 0 file order, N a fixed seed")
)

func TestMain(m *testing.M) {
	if os.Getenv(nodeEnv) == "1" {
		os.Exit(node.Main(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// TestFeatures runs the conformance suite on the loopback backend.
func TestFeatures(t *testing.T) { runFeatures(t, lab.BackendLocal) }

// TestFeaturesNetns runs the same scenarios with every machine in its own
// network namespace on a CNI network. It needs root and iproute2.
func TestFeaturesNetns(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("netns backend: needs root (network namespaces, CNI bridge)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("netns backend: needs iproute2's ip command; .ci/run installs it")
	}
	runFeatures(t, lab.BackendNetns)
}

func runFeatures(t *testing.T, backend string) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(RunOptions{
		Config: Config{
			Command:  []string{exe},
			Env:      []string{nodeEnv + "=1"},
			Fixtures: os.DirFS("../fixtures"),
			LogDir:   os.Getenv("C2CLAB_LOG_DIR"),
			Backend:  backend,
		},
		Features: features.FS,
		Tags:     *tags,
		Seed:     *seed,
	})
	if err != nil {
		t.Fatal(err)
	}
	// One subtest per scenario, so go test -v, -json and gotestsum count a
	// skipped scenario as skipped, with its reason, and a failed one as failed.
	for _, o := range res.Scenarios {
		t.Run(o.Name, func(t *testing.T) {
			switch o.Status {
			case "failed":
				t.Error(o.Reason)
			case "skipped":
				t.Skip(o.Reason)
			}
		})
	}
	if res.GodogStatus != 0 && res.Failed == 0 {
		t.Errorf("godog exited %d (undefined or pending steps, or bad options)", res.GodogStatus)
	}
	if res.Passed+res.Failed+res.Skipped == 0 {
		t.Error("no scenario ran")
	}
	t.Log(res.Summary())
}
