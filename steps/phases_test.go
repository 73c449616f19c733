package steps

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/c2clab/c2clab/sim/report"
)

// With Concurrency above 1, every selected scenario runs exactly once, the
// ones carrying a SerialTag (here inherited from nothing, tagged on the
// scenario) before the others, and the caller's tag filter still holds.
func TestConcurrentRunRunsSerialScenariosFirstAndEachOnce(t *testing.T) {
	privateLocks(t)
	tenant := "    Given the tenant:\n      \"\"\"\n      name: example\n      clientHostnameValidation: ['.*\\.example\\.com']\n      \"\"\"\n"
	var b strings.Builder
	b.WriteString("Feature: phases\n")
	for _, s := range []struct{ tags, name string }{
		{"", "plain one"}, {"@other", "plain two"}, {"@NET-3", "measures"},
		{"", "plain three"}, {"@excluded", "filtered out"}, {"@load @excluded", "serial but filtered out"},
	} {
		b.WriteString("  " + s.tags + "\n  Scenario: " + s.name + "\n" + tenant)
	}
	for _, seed := range []int64{0, 1, 2} {
		res, err := Run(RunOptions{
			Config:      Config{Command: []string{"/nonexistent"}, Fixtures: fstest.MapFS{}},
			Features:    fstest.MapFS{"p.feature": {Data: []byte(b.String())}},
			Tags:        "~@excluded",
			Output:      io.Discard,
			Seed:        seed,
			Concurrency: 3,
		})
		if err != nil {
			t.Fatal(err)
		}
		if !res.OK() || res.Passed != 4 || len(res.Scenarios) != 4 {
			t.Fatalf("seed %d: got %s, status %d, %d outcomes, want 4 passed (failures: %v)", seed, res.Summary(), res.GodogStatus, len(res.Scenarios), res.Failures)
		}
		if res.Scenarios[0].Name != "measures" {
			t.Errorf("seed %d: first scenario %q, want the @NET-3 one alone before the others", seed, res.Scenarios[0].Name)
		}
		seen := map[string]bool{}
		for _, o := range res.Scenarios {
			if seen[o.Name] || strings.Contains(o.Name, "filtered") {
				t.Errorf("seed %d: %q ran twice or despite the filter", seed, o.Name)
			}
			seen[o.Name] = true
		}
	}
}

// With a report and Concurrency above 1, each phase writes its own
// Cucumber JSON and the run merges them: cucumber.json holds every
// scenario that ran exactly once, with its steps, under one feature, and
// the phases' files are gone.
func TestConcurrentRunMergesThePhasesReports(t *testing.T) {
	privateLocks(t)
	dir := t.TempDir()
	tenant := "    Given the tenant:\n      \"\"\"\n      name: example\n      clientHostnameValidation: ['.*\\.example\\.com']\n      \"\"\"\n"
	feature := "Feature: phases\n  Scenario: plain one\n" + tenant + "  @NET-3\n  Scenario: measures\n" + tenant + "  Scenario: plain two\n" + tenant
	res, err := Run(RunOptions{
		Config:      Config{Command: []string{"/nonexistent"}, Fixtures: fstest.MapFS{}},
		Features:    fstest.MapFS{"p.feature": {Data: []byte(feature)}},
		ReportDir:   dir,
		Output:      io.Discard,
		Concurrency: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() || res.Passed != 3 {
		t.Fatalf("got %s, status %d, want 3 passed (failures: %v)", res.Summary(), res.GodogStatus, res.Failures)
	}
	data, err := os.ReadFile(filepath.Join(dir, "cucumber.json"))
	if err != nil {
		t.Fatal(err)
	}
	feats, err := report.ParseCucumber(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(feats) != 1 {
		t.Fatalf("%d features in the merged report, want the one", len(feats))
	}
	var names []string
	for _, sc := range feats[0].Scenarios {
		names = append(names, sc.Name)
		if len(sc.Steps) == 0 || sc.Steps[0].Name != "the tenant:" {
			t.Errorf("scenario %q: steps %+v, want its tenant step", sc.Name, sc.Steps)
		}
	}
	slices.Sort(names)
	if want := []string{"measures", "plain one", "plain two"}; !slices.Equal(names, want) {
		t.Errorf("scenarios in the merged report %q, want each of %q once", names, want)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "cucumber.phase*")); len(left) > 0 {
		t.Errorf("phase reports left behind: %v", left)
	}
}

// A measuring scenario that the backend skips before its lab starts (an
// impaired link on loopback, which has no links) takes no timing lock, so
// it does not wait for, or stop, the other suites' scenarios: here one of
// them holds the lock shared the whole time, which an exclusive hold would
// wait for without end.
func TestMeasuringScenarioSkippedBeforeItsLabTakesNoLock(t *testing.T) {
	privateLocks(t)
	other := <-held(t, false)
	defer other()
	tenant := "    Given the tenant:\n      \"\"\"\n      name: example\n      clientHostnameValidation: ['.*\\.example\\.com']\n      \"\"\"\n"
	feature := "Feature: skipped measuring\n  @NET-2\n  Scenario: shaped\n" + tenant +
		"    And the device \"far\" from fixture \"win-4.5-ad\" with:\n      | hostname | far |\n      | primaryDnsSuffix | example.com |\n" +
		"    And the link of \"far\" has:\n      | delay | 20ms |\n    When the lab starts\n"
	done := make(chan Result, 1)
	go func() {
		res, err := Run(RunOptions{
			Config:   Config{Command: []string{"/nonexistent"}, Fixtures: os.DirFS("../fixtures")},
			Features: fstest.MapFS{"s.feature": {Data: []byte(feature)}},
			Output:   io.Discard,
		})
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	select {
	case res := <-done:
		if res.Skipped != 1 || res.Passed+res.Failed != 0 {
			t.Errorf("got %s (failures %v), want the one scenario skipped", res.Summary(), res.Failures)
		}
		if len(res.Scenarios) == 1 && res.Scenarios[0].Waited > time.Second {
			t.Errorf("the skipped scenario waited %v for the timing lock", res.Scenarios[0].Waited)
		}
	case <-time.After(time.Minute):
		other() // let it finish, to report
		t.Fatalf("the skipped measuring scenario still waits for the timing lock after a minute: %v", (<-done).Summary())
	}
}
