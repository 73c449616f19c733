package report

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func loadSample(t *testing.T) ([]Feature, []Requirement) {
	t.Helper()
	f, err := os.Open("testdata/cucumber.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	features, err := ParseCucumber(f)
	if err != nil {
		t.Fatalf("ParseCucumber: %v", err)
	}
	md, err := os.ReadFile("testdata/requirements.md")
	if err != nil {
		t.Fatal(err)
	}
	cat, err := LoadCatalogue(md)
	if err != nil {
		t.Fatalf("LoadCatalogue: %v", err)
	}
	return features, cat
}

func TestParseCucumber(t *testing.T) {
	features, _ := loadSample(t)
	if len(features) != 2 {
		t.Fatalf("%d features, want 2", len(features))
	}
	hv, ep := features[0], features[1]
	if hv.Name != "Client hostname validation" || hv.URI != "features/hostname.feature" || len(hv.Scenarios) != 4 {
		t.Fatalf("feature 0: %q %q with %d scenarios", hv.Name, hv.URI, len(hv.Scenarios))
	}
	first := hv.Scenarios[0]
	if want := []string{"@hostname", "@HV-2", "@HV-3"}; !reflect.DeepEqual(first.Tags, want) {
		t.Errorf("tags %q, want %q", first.Tags, want)
	}
	if first.Duration() != 5100*time.Microsecond {
		t.Errorf("duration %v, want 5.1ms", first.Duration())
	}
	if first.Steps[1].DocString != "hostname: testPC\nprimaryDnsSuffix: example.com" {
		t.Errorf("doc string %q", first.Steps[1].DocString)
	}
	if want := [][]string{{"FQDNRegistered", "true"}, {"FQDNRegisteredError", "FQDN_MATCH"}}; !reflect.DeepEqual(first.Steps[2].Rows, want) {
		t.Errorf("rows %q", first.Steps[2].Rows)
	}
	failed := hv.Scenarios[1].Steps[2]
	if failed.Status != Failed || failed.Error != `FQDNRegisteredError is "FQDN_MATCH", want "FQDN_NO_MATCH"` {
		t.Errorf("failed step: %+v", failed)
	}
	// The background element's steps open the next scenario; feature tags
	// are added when the tool left them out (here there are none).
	if len(ep.Scenarios) != 2 || len(ep.Scenarios[0].Steps) != 3 || ep.Scenarios[0].Steps[0].Name != "the lab is up" {
		t.Fatalf("background not prepended: %+v", ep.Scenarios)
	}
	if a := ep.Scenarios[0].Steps[1].Attachments; len(a) != 1 || string(a[0].Data) != "needs root" {
		t.Errorf("embedding not decoded: %+v", a)
	}
	if len(ep.Scenarios[1].Hooks) != 1 || ep.Scenarios[1].Hooks[0].Status != Passed {
		t.Errorf("before hook: %+v", ep.Scenarios[1].Hooks)
	}
}

func TestParseCucumberRejectsBadJSON(t *testing.T) {
	for _, in := range []string{"", "{", `{"uri": "x"}`, `[{"elements": [{"steps": [{"line": "seven"}]}]}]`} {
		if _, err := ParseCucumber(strings.NewReader(in)); err == nil || !strings.Contains(err.Error(), "parse cucumber json") {
			t.Errorf("ParseCucumber(%q) = %v, want an error", in, err)
		}
	}
}

func steps(statuses ...Status) []Step {
	var s []Step
	for _, st := range statuses {
		s = append(s, Step{Keyword: "Given ", Name: "step", Status: st})
	}
	return s
}

func TestScenarioStatus(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps []Step
		hooks []Step
		want  Status
	}{
		{"all passed", steps(Passed, Passed), nil, Passed},
		{"failed then skipped", steps(Passed, Failed, Skipped), nil, Failed},
		{"skipped", steps(Passed, Skipped, Skipped), nil, Skipped},
		{"undefined", steps(Passed, Undefined), nil, Failed},
		{"pending", steps(Pending), nil, Failed},
		{"ambiguous", steps(Ambiguous, Skipped), nil, Failed},
		{"unknown status", steps(Status("unknown")), nil, Failed},
		{"no steps", nil, nil, Skipped},
		{"failing hook", steps(Passed), steps(Failed), Failed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Scenario{Steps: tc.steps, Hooks: tc.hooks}
			if got := s.Status(); got != tc.want {
				t.Errorf("Status() = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestScenarioReason(t *testing.T) {
	failing := Scenario{Steps: []Step{{Keyword: "When ", Name: "bad", Status: Failed, Error: "boom"}, {Status: Skipped}}}
	if got := failing.Reason(); got != "When bad: boom" {
		t.Errorf("failed reason %q", got)
	}
	withMsg := Scenario{Steps: []Step{{Status: Skipped, Error: "no docker"}}}
	withAttach := Scenario{Steps: []Step{{Status: Passed}, {Status: Skipped, Attachments: []Attachment{{Name: "other", Data: []byte("x")}, {Name: SkipAttachment, Data: []byte("needs root")}}}}}
	for _, tc := range []struct {
		s    Scenario
		want string
	}{{withMsg, "no docker"}, {withAttach, "needs root"}, {Scenario{}, "scenario has no steps"}} {
		if got := tc.s.Reason(); got != tc.want {
			t.Errorf("skip reason %q, want %q", got, tc.want)
		}
	}
}

func scenario(name string, st Status, tags ...string) Scenario {
	s := Scenario{Name: name, Tags: tags, Steps: steps(st)}
	if st == Skipped {
		s.Steps[0].Error = "skip: " + name
	}
	return s
}

func TestRequirementsVerdicts(t *testing.T) {
	cat := []Requirement{{ID: "A-1"}, {ID: "A-2"}, {ID: "A-3"}, {ID: "A-4"}, {ID: "A-5"}, {ID: "A-6"}}
	features := []Feature{{Name: "f", Scenarios: []Scenario{
		scenario("p1", Passed, "@A-1", "@A-2", "@A-3"),
		scenario("p2", Passed, "@A-1", "@wip"),
		scenario("f1", Failed, "@A-2"),
		scenario("s1", Skipped, "@A-3", "@A-4"),
		scenario("s2", Skipped, "@A-4"),
		scenario("u1", Undefined, "@A-6", "@A-6"),
		scenario("x1", Passed, "@B-7", "@b-8", "@B-9x"),
	}}}
	for _, tc := range []struct {
		id      string
		verdict Verdict
		n       int
		reason  string
	}{
		{"A-1", VerdictPassed, 2, ""},
		{"A-2", VerdictFailed, 2, `1 of 2 scenarios failed; first: "f1"`},
		{"A-3", VerdictSkipped, 2, "1 of 2 scenarios skipped: skip: s1"},
		{"A-4", VerdictSkipped, 2, "2 of 2 scenarios skipped: skip: s1; skip: s2"},
		{"A-5", VerdictMissing, 0, "no scenario is tagged @A-5"},
		{"A-6", VerdictFailed, 1, `1 of 1 scenarios failed; first: "u1"`},
		{"B-7", VerdictPassed, 1, ""},
	} {
		t.Run(tc.id, func(t *testing.T) {
			var got *RequirementResult
			results := Requirements(features, cat)
			for i := range results {
				if results[i].ID == tc.id {
					got = &results[i]
				}
			}
			if got == nil {
				t.Fatalf("no result for %s in %+v", tc.id, results)
			}
			if got.Verdict != tc.verdict || len(got.Scenarios) != tc.n || !strings.HasPrefix(got.Reason, tc.reason) {
				t.Errorf("got %s with %d scenarios, reason %q; want %s with %d, reason starting %q", got.Verdict, len(got.Scenarios), got.Reason, tc.verdict, tc.n, tc.reason)
			}
			if got.Uncatalogued != (tc.id == "B-7") {
				t.Errorf("Uncatalogued = %v", got.Uncatalogued)
			}
		})
	}
	if n := len(Requirements(features, cat)); n != 7 {
		t.Errorf("%d results, want 6 catalogued + B-7 (lowercase and suffixed tags are not IDs)", n)
	}
}

func TestRequirementsOnSample(t *testing.T) {
	features, cat := loadSample(t)
	results := Requirements(features, cat)
	got := make(map[string]Verdict)
	for _, r := range results {
		got[r.ID] = r.Verdict
	}
	want := map[string]Verdict{"HV-2": VerdictFailed, "HV-3": VerdictPassed, "HV-6": VerdictFailed,
		"EP-1": VerdictSkipped, "EP-2": VerdictFailed, "EP-3": VerdictMissing, "HV-9": VerdictFailed}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("verdicts %v, want %v", got, want)
	}
	if c := Count(results); c != (Counts{Passed: 1, Failed: 4, Skipped: 1, Missing: 1}) {
		t.Errorf("counts %v", c)
	}
	for _, r := range results {
		if r.ID == "EP-1" && r.Reason != "1 of 1 scenarios skipped: needs root" {
			t.Errorf("EP-1 reason %q", r.Reason)
		}
	}
}

func TestLoadCatalogue(t *testing.T) {
	_, cat := loadSample(t)
	ids := make([]string, len(cat))
	for i, r := range cat {
		ids[i] = r.ID
	}
	if want := []string{"HV-2", "HV-3", "HV-6", "EP-1", "EP-2", "EP-3"}; !reflect.DeepEqual(ids, want) {
		t.Fatalf("IDs %q, want %q", ids, want)
	}
	for _, tc := range []struct {
		i                      int
		section, summary, text string
		line                   int
	}{
		{0, "HV: client hostname validation", "A device is enrolled when its reported FQDN matches the regex: testPC.example.com matches .*\\.examp…", "A device is enrolled when its reported FQDN matches the regex: testPC.example.com matches .*\\.example\\.com. Default: anchored.", 6},
		{2, "HV: client hostname validation", "FQDNs must be complete and unique.", "", 8},
		{3, "EP: the destination endpoint", "The destination connector delivers each connection to the local service at the device's own interfa…", "", 11},
		{4, "EP: the destination endpoint", "Supported remote-assistance protocols: RDP (3389), MSRA, psexec over SMB (445).", "Supported remote-assistance protocols: RDP (3389), MSRA, psexec over SMB (445). A fake RDP endpoint answers a Connection Request.", 12},
	} {
		r := cat[tc.i]
		if r.Section != tc.section || r.Summary != tc.summary || r.Line != tc.line || tc.text != "" && r.Text != tc.text {
			t.Errorf("%s: got section %q summary %q line %d text %q", r.ID, r.Section, r.Summary, r.Line, r.Text)
		}
	}
}

func TestLoadCatalogueErrors(t *testing.T) {
	for _, tc := range []struct{ name, md, want string }{
		{"empty", "# nothing here\n", "no entries"},
		{"duplicate", "## A\n- **A-1** one\n- **A-2** two\n- **A-1** again\n", "line 4: A-1 is listed twice (first on line 2)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := LoadCatalogue([]byte(tc.md)); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("LoadCatalogue: %v, want %q", err, tc.want)
			}
		})
	}
}

func TestWriteTable(t *testing.T) {
	features, cat := loadSample(t)
	var b strings.Builder
	if err := WriteTable(&b, Requirements(features, cat)); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	if len(lines) != 9 {
		t.Fatalf("%d lines, want header + 7 rows + counts:\n%s", len(lines), b.String())
	}
	col := strings.Index(lines[0], "verdict")
	for _, l := range lines[1:8] {
		if strings.Index(l, l[col:col+1]) != col || l[col-1] != ' ' || l[col] == ' ' {
			t.Errorf("row not aligned with header at column %d:\n%s\n%s", col, lines[0], l)
		}
	}
	for _, want := range []string{"HV-3  passed   1/1", "EP-1  skipped  0/1", "EP-3  missing  0/0", "HV-9  failed   0/1        (not in the requirements catalogue)"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
	if lines[8] != "1 passed, 4 failed, 1 skipped, 1 missing" {
		t.Errorf("last line %q", lines[8])
	}
}
