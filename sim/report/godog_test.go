package report

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cucumber/godog"
)

// demoFeature exercises every result godog can give a scenario.
const demoFeature = `@HV-1
Feature: demo
  Scenario: passes
    Given ok

  @HV-2
  Scenario: fails
    Given ok
    When it breaks
    Then ok

  @HV-3
  Scenario: skips with a reason
    Given ok
    When the backend is missing
    Then ok

  @HV-4
  Scenario: undefined
    Given a step nobody wrote

  @HV-5
  Scenario Outline: outline <n>
    Given ok

    Examples:
      | n |
      | 1 |
      | 2 |
`

// runGodog runs demoFeature through godog's cucumber formatter, as the lab's
// suite will, and returns the Cucumber JSON.
func runGodog(t *testing.T) []byte {
	t.Helper()
	var out bytes.Buffer
	suite := godog.TestSuite{
		Name: "demo",
		ScenarioInitializer: func(sc *godog.ScenarioContext) {
			sc.Step(`^ok$`, func() error { return nil })
			sc.Step(`^it breaks$`, func() error { return errors.New(`want "FQDN_MATCH", got <nothing>`) })
			sc.Step(`^the backend is missing$`, func(ctx context.Context) (context.Context, error) {
				ctx = godog.Attach(ctx, godog.Attachment{FileName: SkipAttachment, MediaType: "text/plain", Body: []byte("netns backend needs root")})
				return ctx, fmt.Errorf("netns: %w", godog.ErrSkip)
			})
		},
		Options: &godog.Options{
			Format: "cucumber", Output: &out, NoColors: true, Strict: true,
			FeatureContents: []godog.Feature{{Name: "demo.feature", Contents: []byte(demoFeature)}},
		},
	}
	suite.Run() // non-zero: a scenario fails, as intended
	return out.Bytes()
}

func TestGodogCucumberOutput(t *testing.T) {
	features, err := ParseCucumber(bytes.NewReader(runGodog(t)))
	if err != nil {
		t.Fatal(err)
	}
	cat := []Requirement{{ID: "HV-1"}, {ID: "HV-2"}, {ID: "HV-3"}, {ID: "HV-4"}, {ID: "HV-5"}, {ID: "HV-6"}}
	got := make(map[string]string)
	for _, r := range Requirements(features, cat) {
		got[r.ID] = fmt.Sprintf("%s %d/%d", r.Verdict, r.Passed(), len(r.Scenarios))
		if r.ID == "HV-3" && !strings.HasSuffix(r.Reason, ": netns backend needs root") {
			t.Errorf("HV-3 reason %q, want the attached skip reason", r.Reason)
		}
	}
	want := map[string]string{
		"HV-1": "failed 3/6", // feature tag: every scenario
		"HV-2": "failed 0/1", "HV-3": "skipped 0/1", "HV-4": "failed 0/1", "HV-5": "passed 2/2", "HV-6": "missing 0/0",
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s: %s, want %s", id, got[id], w)
		}
	}

	var junit bytes.Buffer
	if err := WriteJUnit(&junit, "demo", features); err != nil {
		t.Fatal(err)
	}
	var parsed junitSuites
	if err := xml.Unmarshal(junit.Bytes(), &parsed); err != nil {
		t.Fatalf("junit output does not parse: %v", err)
	}
	if parsed.Tests != 6 || parsed.Failures != 1 || parsed.Errors != 1 || parsed.Skipped != 1 {
		t.Errorf("junit counts: tests %d failures %d errors %d skipped %d; want 6 1 1 1", parsed.Tests, parsed.Failures, parsed.Errors, parsed.Skipped)
	}
	cases := parsed.Suites[0].Cases
	names := make([]string, len(cases))
	for i, c := range cases {
		names[i] = c.Name
		if c.Skipped != nil && c.Skipped.Message != "netns backend needs root" {
			t.Errorf("skipped message %q", c.Skipped.Message)
		}
		if c.Failure != nil && !strings.Contains(c.Failure.Message, `got <nothing>`) {
			t.Errorf("failure message %q", c.Failure.Message)
		}
	}
	if !strings.Contains(strings.Join(names, ","), "outline 1,outline 2") {
		t.Errorf("testcase names %q", names)
	}
}
