// Package containertest runs the conformance suite with every node in a
// Docker container of a FROM scratch image. It is a test binary of its own
// so that the container backend, the slowest, has go test's whole time
// limit to itself.
package containertest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/c2clab/c2clab/sim/image"
	"github.com/c2clab/c2clab/sim/lab"
	"github.com/c2clab/c2clab/steps/stepstest"
)

func TestMain(m *testing.M) { stepstest.Main(m) }

// subset is what runs by default: every scenario here costs seconds (a
// container per node), so the whole suite would take most of go test's
// 10-minute limit on 2 cores. C2CLAB_CONTAINER_FULL=1, or -godog.tags,
// runs more.
const subset = "@NET-1,@HV-2,@SEG-2,@POL-1,@EP-1,@EP-2,@LOG-1"

// TestFeaturesContainer needs a Docker engine; without one it skips.
func TestFeaturesContainer(t *testing.T) {
	if _, err := image.Connect(t.Context()); err != nil {
		t.Skipf("container backend: no Docker engine answers (%v)", err)
	}
	bin := filepath.Join(t.TempDir(), "c2clab")
	if err := image.BuildBinary(context.Background(), "../..", bin); err != nil {
		t.Fatal(err)
	}
	sel := *stepstest.Tags
	if sel == "" && os.Getenv("C2CLAB_CONTAINER_FULL") == "" {
		sel = subset
		t.Logf("container backend: scenarios tagged %s (C2CLAB_CONTAINER_FULL=1 runs all)", sel)
	}
	stepstest.Run(t, lab.BackendContainer, bin, sel, os.DirFS("../../fixtures"))
}
