// Package stepstest runs the conformance suite as Go tests: one subtest per
// scenario, a skipped scenario a real skip with its reason, and a check at
// the end of the test binary that its labs left nothing on the machine.
// The suite's test binaries (steps, and steps/containertest/part1 to
// part3) share it, so each has go test's whole time limit of its own.
package stepstest

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/c2clab/c2clab/features"
	"github.com/c2clab/c2clab/sim/image"
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
	RunPaths(t, backend, containerBinary, tags, fixtures, nil)
}

// Part returns the feature files of part i of n (0-based), so a slow
// backend can spread the suite over several test binaries, each with go
// test's whole time limit. Files are dealt largest first, each to the part
// with the fewest scenarios so far (an Examples row counts as a scenario),
// so the parts take about as long as each other whatever files are added.
func Part(i, n int) []string {
	files, _ := fs.Glob(features.FS, "*.feature")
	weight := make(map[string]int, len(files))
	for _, f := range files {
		weight[f] = scenarioCount(f)
	}
	slices.SortStableFunc(files, func(a, b string) int { return weight[b] - weight[a] })
	load := make([]int, n)
	var out []string
	for _, f := range files {
		k := slices.Index(load, slices.Min(load))
		load[k] += weight[f]
		if k == i {
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return out
}

// scenarioCount is how many scenarios a feature file runs: its Scenario
// lines plus the rows under its Examples tables (less each table's header).
func scenarioCount(name string) int {
	data, _ := fs.ReadFile(features.FS, name)
	n, inExamples, header := 0, false, false
	for _, line := range strings.Split(string(data), "\n") {
		l := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(l, "Scenario:"):
			n, inExamples = n+1, false
		case strings.HasPrefix(l, "Examples:"):
			inExamples, header = true, true
		case inExamples && strings.HasPrefix(l, "|"):
			if !header {
				n++
			}
			header = false
		case strings.HasPrefix(l, "Scenario Outline:"), strings.HasPrefix(l, "@"):
			inExamples = false
		}
	}
	return n
}

// RunPaths is Run over the feature files in paths (nil: all).
func RunPaths(t *testing.T, backend, containerBinary, tags string, fixtures fs.FS, paths []string) {
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
		Paths:    paths,
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
		if tags != "" && paths != nil {
			// With a tag filter, one part of a split suite may hold none.
			t.Skipf("no scenario of this part matches %s", tags)
		}
		t.Error("no scenario ran")
	}
	t.Log(res.Summary())
}

// ContainerSuite runs part i of n of the suite on the container backend:
// the whole suite took 444 s there on 2 cores when quiet and over 600 s
// when busy, beyond go test's 10-minute limit for one test binary, so
// steps/containertest has a binary per part. root is the module's source tree, for the static
// binary the image holds. Without a Docker engine it skips.
func ContainerSuite(t *testing.T, i, n int, root string, fixtures fs.FS) {
	if _, err := image.Connect(t.Context()); err != nil {
		t.Skipf("container backend: no Docker engine answers (%v)", err)
	}
	bin := filepath.Join(t.TempDir(), "c2clab")
	if err := image.BuildBinary(t.Context(), root, bin); err != nil {
		t.Fatal(err)
	}
	RunPaths(t, lab.BackendContainer, bin, *Tags, fixtures, Part(i, n))
}
