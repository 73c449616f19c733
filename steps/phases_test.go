package steps

import (
	"io"
	"strings"
	"testing"
	"testing/fstest"
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

// Two phases would each write cucumber.json, so a report needs one.
func TestConcurrentRunRefusesAReport(t *testing.T) {
	_, err := Run(RunOptions{Features: fstest.MapFS{}, ReportDir: t.TempDir(), Concurrency: 2, Output: io.Discard})
	if err == nil || !strings.Contains(err.Error(), "Concurrency 1") {
		t.Fatalf("err = %v, want a refusal naming Concurrency 1", err)
	}
}
