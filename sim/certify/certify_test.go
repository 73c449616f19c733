package certify

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/c2clab/c2clab/sim/report"
)

var testProfile = Profile{Name: "test", Requirements: []Requirement{
	{ID: "HV-2", Mandatory: true}, {ID: "EP-1", Mandatory: true}, {ID: "RA-1", Mandatory: false},
}}

var catalogue = []report.Requirement{{ID: "HV-2", Summary: "hv"}, {ID: "EP-1", Summary: "ep"}, {ID: "RA-1", Summary: "ra"}, {ID: "POL-1", Summary: "pol"}}

func scenario(name string, st report.Status, tags ...string) report.Scenario {
	step := report.Step{Status: st, Attachments: []report.Attachment{{Name: report.EvidenceAttachment, MimeType: "text/plain", Data: []byte(name + " measured 1\n" + name + " measured 2")}}}
	return report.Scenario{Name: name, Line: len(name), Tags: tags, Steps: []report.Step{step}}
}

func TestJudge(t *testing.T) {
	tests := []struct {
		name      string
		scenarios []report.Scenario
		want      string
		denied    []string // IDs
	}{
		{"all pass", []report.Scenario{scenario("a", report.Passed, "@HV-2"), scenario("b", report.Passed, "@EP-1"), scenario("c", report.Passed, "@RA-1")}, Certified, nil},
		{"optional fails", []report.Scenario{scenario("a", report.Passed, "@HV-2"), scenario("b", report.Passed, "@EP-1"), scenario("c", report.Failed, "@RA-1")}, Certified, nil},
		{"mandatory fails", []report.Scenario{scenario("a", report.Passed, "@HV-2"), scenario("b", report.Failed, "@EP-1", "@HV-2")}, NotCertified, []string{"HV-2", "EP-1"}},
		{"mandatory skipped", []report.Scenario{scenario("a", report.Passed, "@HV-2"), scenario("b", report.Skipped, "@EP-1")}, NotCertified, []string{"EP-1"}},
		{"mandatory missing", []report.Scenario{scenario("a", report.Passed, "@HV-2")}, NotCertified, []string{"EP-1"}},
		{"outside the profile is ignored", []report.Scenario{scenario("a", report.Passed, "@HV-2"), scenario("b", report.Passed, "@EP-1"), scenario("p", report.Failed, "@POL-1")}, Certified, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			feats := []report.Feature{{URI: "f.feature", Name: "f", Scenarios: tt.scenarios}}
			got, denied, results := Judge(testProfile, []Run{{Pairing: PairingTT, Features: feats}}, catalogue)
			if got != tt.want {
				t.Errorf("verdict %q, want %q (denied %v)", got, tt.want, denied)
			}
			if len(denied) != len(tt.denied) {
				t.Fatalf("denied %v, want %v", denied, tt.denied)
			}
			for i, id := range tt.denied {
				if !strings.HasPrefix(denied[i], id+" ") {
					t.Errorf("denied[%d] = %q, want %s first", i, denied[i], id)
				}
			}
			for _, r := range results {
				if r.ID == "POL-1" {
					t.Error("a requirement outside the profile was judged")
				}
			}
		})
	}
}

func TestJudgeKeepsEvidence(t *testing.T) {
	feats := []report.Feature{{URI: "f.feature", Scenarios: []report.Scenario{scenario("a", report.Passed, "@HV-2")}}}
	_, _, results := Judge(testProfile, []Run{{Pairing: PairingTT, Features: feats}}, catalogue)
	if len(results) == 0 || results[0].ID != "HV-2" || len(results[0].Scenarios) != 1 {
		t.Fatalf("results = %+v", results)
	}
	if ev := results[0].Scenarios[0].Evidence; len(ev) != 2 || ev[1] != "a measured 2" {
		t.Errorf("evidence = %q, want the two lines attached", ev)
	}
}

func TestFeaturesSHA256(t *testing.T) {
	a := fstest.MapFS{"x.feature": {Data: []byte("Feature: x")}, "y.txt": {Data: []byte("not hashed")}}
	b := fstest.MapFS{"x.feature": {Data: []byte("Feature: x!")}, "y.txt": {Data: []byte("not hashed")}}
	c := fstest.MapFS{"x.feature": {Data: []byte("Feature: x")}, "y.txt": {Data: []byte("changed")}}
	ha, err := FeaturesSHA256(a)
	if err != nil {
		t.Fatal(err)
	}
	hb, _ := FeaturesSHA256(b)
	hc, _ := FeaturesSHA256(c)
	if ha == hb {
		t.Error("a changed feature file kept the hash")
	}
	if ha != hc {
		t.Error("a file that is not a feature changed the hash")
	}
}

func TestConnectorProfileTags(t *testing.T) {
	tags := Connector.Tags()
	if !strings.HasPrefix(tags, "@HV-2,") || strings.Count(tags, "@") != len(Connector.Requirements)-1 || strings.Contains(tags, Interop) {
		t.Errorf("Tags() = %q", tags)
	}
}
