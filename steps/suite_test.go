package steps

import (
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/c2clab/c2clab/features"
	"github.com/c2clab/c2clab/sim/image"
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

// containerSubset is what the container backend runs by default: every
// scenario there costs about 6 s (an image and a container per node), so
// the whole suite (~7 min) would crowd go test's 10-minute package limit.
// C2CLAB_CONTAINER_FULL=1, or -godog.tags, runs more.
const containerSubset = "@NET-1,@HV-2,@SEG-2,@POL-1,@EP-1,@EP-2,@LOG-1"

// TestFeaturesContainer runs the scenarios with every node in a Docker
// container of a FROM scratch image. It needs a Docker engine.
func TestFeaturesContainer(t *testing.T) {
	if err := exec.Command("docker", "version").Run(); err != nil {
		t.Skipf("container backend: no Docker engine answers (%v)", err)
	}
	bin := filepath.Join(t.TempDir(), "c2clab")
	if err := image.BuildBinary(context.Background(), "..", bin); err != nil {
		t.Fatal(err)
	}
	sel := *tags
	if sel == "" && os.Getenv("C2CLAB_CONTAINER_FULL") == "" {
		sel = containerSubset
		t.Logf("container backend: scenarios tagged %s (C2CLAB_CONTAINER_FULL=1 runs all)", sel)
	}
	runFeaturesWith(t, lab.BackendContainer, bin, sel)
}

func runFeatures(t *testing.T, backend string) { runFeaturesWith(t, backend, "", *tags) }

func runFeaturesWith(t *testing.T, backend, containerBinary, sel string) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(RunOptions{
		Config: Config{
			Command:         []string{exe},
			Env:             []string{nodeEnv + "=1"},
			Fixtures:        os.DirFS("../fixtures"),
			LogDir:          os.Getenv("C2CLAB_LOG_DIR"),
			Backend:         backend,
			ContainerBinary: containerBinary,
		},
		Features: features.FS,
		Tags:     sel,
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
