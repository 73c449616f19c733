package steps

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/c2clab/c2clab/fixtures"
)

// A scenario whose real client is missing must be counted as skipped, with
// the reason, never as passed (godog's own counts would say passed).
func TestSkippedScenarioIsCountedAsSkipped(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", "/nonexistent") // no nc: the step must skip
	feature := `Feature: skip
  Scenario: needs netcat
    Given the tenant:
      """
      name: example
      clientHostnameValidation: ['.*\.example\.com']
      applicationSegments: [{name: W, domainNames: ["*.example.com"], tcpPortRange: [{from: 7, to: 7}]}]
      """
    And the admin "a1" logged in as "admin@example.com"
    When the lab starts
    And "a1" sends "x" with nc to "ws.example.com:7"
    Then the client prints "x"
`
	res, err := Run(RunOptions{
		Config:   Config{Command: []string{exe}, Env: []string{"C2CLAB_TEST_NODE=1"} /* stepstest.Main re-executes as a node */, Fixtures: fstest.MapFS{}},
		Features: fstest.MapFS{"skip.feature": {Data: []byte(feature)}},
		Output:   io.Discard,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Passed != 0 || res.Failed != 0 || res.Skipped != 1 {
		t.Fatalf("got %s, want 0 passed, 0 failed, 1 skipped (failures: %v)", res.Summary(), res.Failures)
	}
	if len(res.Skips) != 1 || !strings.Contains(res.Skips[0], "nc") {
		t.Fatalf("skip reasons = %q, want one naming nc", res.Skips)
	}
}

// Everything the steps print goes to RunOptions.Output: here a step's note
// (its evidence) and the summary, from scenarios that need no lab, two at
// once so that -race sees godog and both scenarios' steps write to it.
func TestStepOutputGoesToRunOutput(t *testing.T) {
	feature := `Feature: output
  Scenario Outline: a pull notes what it fetched
    Given a ZPA API replaying "fixtures/zpa/helpdesk"
    When the tenant is pulled with the <client> API client
    Then the pull succeeds

    Examples:
      | client |
      | legacy |
      | OneAPI |
`
	var out bytes.Buffer
	res, err := Run(RunOptions{
		Config:      Config{Fixtures: fixtures.FS},
		Features:    fstest.MapFS{"output.feature": {Data: []byte(feature)}},
		Output:      &out,
		Concurrency: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() || res.Passed != 2 {
		t.Fatalf("got %s (failures: %v), want 2 passed", res.Summary(), res.Failures)
	}
	for _, want := range []string{"bodies pulled", res.Summary()} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the run's output lacks %q:\n%s", want, out.String())
		}
	}
}
