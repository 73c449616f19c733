// Package stepstest runs the conformance suite as Go tests: one subtest per
// scenario, a skipped scenario a real skip with its reason, and a check at
// the end of the test binary that its labs left nothing on the machine.
// The suite's test binaries (steps, and steps/containertest/part1 to
// part3) share it, so each has go test's whole time limit of its own.
package stepstest

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/c2clab/c2clab/features"
	"github.com/c2clab/c2clab/sim/buildcache"
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
	Tags        = flag.String("godog.tags", "", "godog tag expression selecting scenarios, e.g. '@HV-2'")
	seed        = flag.Int64("godog.seed", -1, "scenario order: -1 random (printed), 0 file order, N a fixed seed")
	concurrency = flag.Int("godog.concurrency", 0, "scenarios run at once, after the timing-sensitive ones (steps.SerialTags) ran alone; 1: one at a time, 0: the backend's default (loopback and container 3, netns 2)")
)

// Main is the suite binaries' TestMain: it runs as a lab node when
// re-executed as one, else runs the tests and then fails the binary if
// any lab it made left something behind.
func Main(m *testing.M) {
	if os.Getenv(nodeEnv) == "1" {
		os.Exit(node.Main(os.Args[1:]))
	}
	code := m.Run()
	steps.RemoveBuiltAgents()
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
	RunPaths(t, steps.Config{Backend: backend, ContainerBinary: containerBinary}, tags, fixtures, nil)
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

// RunPaths is Run over the feature files in paths (nil: all), on the
// backend and container binary and image of cfg.
func RunPaths(t *testing.T, cfg steps.Config, tags string, fixtures fs.FS, paths []string) {
	cfg.Command, cfg.Env = nodeCommand(t)
	cfg.Fixtures, cfg.LogDir = fixtures, os.Getenv("C2CLAB_LOG_DIR")
	res, err := steps.Run(steps.RunOptions{
		Config:      cfg,
		Features:    features.FS,
		Paths:       paths,
		Tags:        tags,
		Seed:        *seed,
		Concurrency: cmp.Or(*concurrency, steps.DefaultConcurrency(cfg.Backend)),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range res.Scenarios {
		t.Run(o.Name, func(t *testing.T) {
			t.Logf("took %s, after waiting %s for the timing lock", o.Took.Round(time.Millisecond), o.Waited.Round(time.Millisecond))
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
	logSlowest(t, res.Scenarios, 10)
}

// logSlowest logs the n scenarios that took longest and the sums, so a
// suite's time can be read from one test's output.
func logSlowest(t *testing.T, all []steps.Outcome, n int) {
	s := slices.Clone(all)
	slices.SortFunc(s, func(a, b steps.Outcome) int { return cmp.Compare(b.Took, a.Took) })
	var took, waited time.Duration
	for _, o := range s {
		took, waited = took+o.Took, waited+o.Waited
	}
	t.Logf("%d scenarios took %s together, and waited %s for the timing lock; the slowest:", len(s), took.Round(time.Second), waited.Round(time.Second))
	for _, o := range s[:min(n, len(s))] {
		t.Logf("  %6.1f s  %s (%s)", o.Took.Seconds(), o.Name, o.URI)
	}
}

// nodeCommand is what starts the labs' nodes outside containers: the
// c2clab-node program built from this source tree (once for every suite
// binary of the tree, sim/buildcache), which starts in about a tenth of
// the CPU a re-exec of this test binary takes (testcontainers-go's package
// initializer lists every process of the machine); without the source
// tree and Go, this test binary as a node.
func nodeCommand(t *testing.T) (cmd, env []string) {
	if root, ok := image.SourceTree(); ok {
		bin, err := buildcache.Build(t.Context(), root, "./cmd/c2clab-node", "c2clab-node")
		if err != nil {
			t.Fatal(err)
		}
		return []string{bin}, nil
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return []string{exe}, []string{nodeEnv + "=1"}
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
	bin, img := suiteImage(t, root)
	cfg := steps.Config{Backend: lab.BackendContainer, ContainerBinary: bin, ContainerImage: img}
	RunPaths(t, cfg, *Tags, fixtures, Part(i, n))
}

// suiteImage builds the FROM scratch image once for every lab of the test
// binary (building it per lab took 3 to 4 s on 2 busy cores), and removes
// it when the test ends. Its /c2clab is c2clab-node built static (once for
// every suite binary of the tree, sim/buildcache): the containers only
// ever run "c2clab node ROLE ...", which it runs with the same code as
// c2clab, starting in 5 ms of CPU instead of 40 and making an image a
// fifth the size. The image carries a run ID of its own, so
// lab.LeftBehind's sweep and lab down --all find it after a crash; the
// run, claimed by this process (lab.ClaimRun), tells lab down --all that it
// is alive meanwhile (it would remove the image from under running labs).
func suiteImage(t *testing.T, root string) (bin, img string) {
	id, err := lab.NewRunID()
	if err != nil {
		t.Fatal(err)
	}
	release, err := lab.ClaimRun(id)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(release)
	bin, err = buildcache.Build(t.Context(), root, "./cmd/c2clab-node", "c2clab-node-static", "CGO_ENABLED=0")
	if err != nil {
		t.Fatal(err)
	}
	prov, err := image.Connect(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := image.Remove(ctx, prov.Client(), id); err != nil {
			t.Errorf("suite image: %v", err)
		}
		prov.Close()
	})
	img = "c2clab:" + id
	if err := image.Build(t.Context(), prov, bin, img, id); err != nil {
		t.Fatal(err)
	}
	return bin, img
}
