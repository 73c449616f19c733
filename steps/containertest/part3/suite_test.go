// Package part3 runs part 3 of 3 of the conformance suite (feature files
// dealt by scenario count, stepstest.Part) with every node in a Docker
// container of a FROM scratch image; steps/containertest holds the other
// parts. Each part is a test binary of its own, so each has go test's
// whole time limit.
package part3

import (
	"os"
	"testing"

	"github.com/c2clab/c2clab/steps/stepstest"
)

func TestMain(m *testing.M) { stepstest.Main(m) }

func TestFeaturesContainer(t *testing.T) {
	stepstest.ContainerSuite(t, 2, 3, "../../..", os.DirFS("../../../fixtures"))
}
