package stepstest

import (
	"io/fs"
	"slices"
	"testing"

	"github.com/c2clab/c2clab/features"
)

// TestPartsDealEveryFileOnceAndEvenly checks that the container suite's
// parts together run every feature file exactly once, and that no part
// has more scenarios than another by more than the largest file holds.
func TestPartsDealEveryFileOnceAndEvenly(t *testing.T) {
	all, _ := fs.Glob(features.FS, "*.feature")
	for _, n := range []int{1, 2, 3, 4} {
		var got []string
		var loads []int
		largest := 0
		for i := range n {
			load := 0
			for _, f := range Part(i, n) {
				got = append(got, f)
				load += scenarioCount(f)
				largest = max(largest, scenarioCount(f))
			}
			loads = append(loads, load)
		}
		slices.Sort(got)
		if !slices.Equal(got, all) {
			t.Errorf("%d parts run %v, want every file once: %v", n, got, all)
		}
		if spread := slices.Max(loads) - slices.Min(loads); spread > largest {
			t.Errorf("%d parts have %v scenarios: spread %d exceeds the largest file's %d", n, loads, spread, largest)
		}
	}
	if c := scenarioCount("remote_assistance.feature"); c < 10 {
		t.Errorf("remote_assistance.feature counts %d scenarios; its Examples rows must count", c)
	}
}
