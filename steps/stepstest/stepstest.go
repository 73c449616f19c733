// Package stepstest runs the conformance suite as Go tests: one subtest per
// scenario, a skipped scenario a real skip with its reason, and a check at
// the end of the test binary that its labs left nothing on the machine.
// The suite's test binaries (steps, steps/containertest) share it, so each
// backend can have a binary, and a go test timeout, of its own.
package stepstest

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/c2clab/c2clab/features"
	"github.com/c2clab/c2clab/sim/lab"
	"github.com/c2clab/c2clab/sim/node"
	"github.com/c2clab/c2clab/steps"
)

// nodeEnv marks a re-exec of the test binary as a lab node, so the suite
// needs no separately built c2clab binary.
const nodeEnv = "C2CLAB_TEST_NODE"

var (
	// Tags selects scenarios: go test ./steps -args -godog.tags=@HV-2.
	Tags = flag.String("godog.tags", "", "godog tag expression selecting scenarios, e.g. '@HV-2'")
	seed = flag.Int64("godog.seed", -1, "scenario order: -1 random (printed), 0 file order, N a fixed seed")
)

// Main is the suite binaries' TestMain: it runs as a lab node when
// re-executed as one, else runs the tests and then fails the binary if
// any lab it made left something behind.
func Main(m *testing.M) {
	if os.Getenv(nodeEnv) == "1" {
		os.Exit(node.Main(os.Args[1:]))
	}
	code := m.Run()
	left, err := lab.LeftBehind()
	if err != nil {
		fmt.Fprintf(os.Stderr, "leftover check: %v\n", err)
		code = 1
	}
	if len(left) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: the suite's labs left behind:\n  %s\n", strings.Join(left, "\n  "))
		code = 1
	}
	os.Exit(code)
}

// Run runs the scenarios selected by tags on backend, one subtest each.
func Run(t *testing.T, backend, containerBinary, tags string, fixtures fs.FS) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	res, err := steps.Run(steps.RunOptions{
		Config: steps.Config{
			Command:         []string{exe},
			Env:             []string{nodeEnv + "=1"},
			Fixtures:        fixtures,
			LogDir:          os.Getenv("C2CLAB_LOG_DIR"),
			Backend:         backend,
			ContainerBinary: containerBinary,
		},
		Features: features.FS,
		Tags:     tags,
		Seed:     *seed,
	})
	if err != nil {
		t.Fatal(err)
	}
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
