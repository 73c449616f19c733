package steps_test

import (
	"os"
	"os/exec"
	"testing"

	"github.com/c2clab/c2clab/sim/lab"
	"github.com/c2clab/c2clab/steps/stepstest"
)

func TestMain(m *testing.M) { stepstest.Main(m) }

// TestFeatures runs the conformance suite on the loopback backend. It runs
// beside TestFeaturesNetns: a loopback lab and a netns one share nothing
// but the machine (the netns nodes' loopback is their own), and each
// mostly waits (for nodes, registrations, the kernel's namespace set-up),
// so run one after the other they left the CPU idle for most of the
// package's time. The scenarios that measure still run alone, across both
// (steps.SerialTags, the timing lock).
func TestFeatures(t *testing.T) {
	t.Parallel()
	stepstest.Run(t, lab.BackendLocal, "", *stepstest.Tags, os.DirFS("../fixtures"))
}

// TestFeaturesNetns runs the same scenarios with every machine in its own
// network namespace on a CNI network. It needs root and iproute2. The
// container backend runs in steps/containertest, test binaries of their own,
// so that each has go test's whole time limit.
func TestFeaturesNetns(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("netns backend: needs root (network namespaces, CNI bridge)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("netns backend: needs iproute2's ip command; .ci/run installs it")
	}
	stepstest.Run(t, lab.BackendNetns, "", *stepstest.Tags, os.DirFS("../fixtures"))
}
