// Package half1 runs half 1 of the conformance suite (every other feature
// file) with every node in a Docker container of a FROM scratch image; the
// other half is in steps/containertest/half2. Each half is a test binary of its
// own, so each has go test's whole time limit.
package half1

import (
	"os"
	"testing"

	"github.com/c2clab/c2clab/steps/stepstest"
)

func TestMain(m *testing.M) { stepstest.Main(m) }

func TestFeaturesContainer(t *testing.T) {
	stepstest.ContainerSuite(t, 0, 2, "../../..", os.DirFS("../../../fixtures"))
}
