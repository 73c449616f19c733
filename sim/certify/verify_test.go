package certify

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/c2clab/c2clab/sim/report"
)

var verifySuite = fstest.MapFS{"f.feature": {Data: []byte(`Feature: f

  @HV-2
  Scenario: a
    Given x

  @EP-1
  Scenario: b
    Given y
`)}}

var verifyProfile = Profile{Name: "p", Requirements: []Requirement{
	{ID: "HV-2", Mandatory: true}, {ID: "EP-1", Mandatory: false}, {ID: Interop, Mandatory: true},
}}

// verifiable judges three pairings of the two scenarios, b failing in
// failing's pairing, and returns the report as JSON decodes it.
func verifiable(t *testing.T, failing string) (Report, []Pickle, string) {
	t.Helper()
	pickles, err := Pickles(verifySuite)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := FeaturesSHA256(verifySuite)
	if err != nil {
		t.Fatal(err)
	}
	var runs []Run
	for _, p := range []string{PairingTT, PairingTR, PairingRT} {
		st := report.Passed
		if p == failing {
			st = report.Failed
		}
		runs = append(runs, Run{Pairing: p, Features: []report.Feature{{URI: "f.feature", Scenarios: []report.Scenario{
			scenario("a", report.Passed, "@HV-2"), scenario("b", st, "@EP-1")}}}})
	}
	cat := append(catalogue, report.Requirement{ID: Interop, Summary: "interop"})
	verdict, denied, results := Judge(verifyProfile, runs, cat)
	r := Report{Verdict: verdict, Denied: denied, Suite: Suite{FeaturesSHA256: sum, Profile: "p"}, Pairings: Summaries(runs), Requirements: results}
	var buf bytes.Buffer
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	return back, pickles, sum
}

func TestVerifyAcceptsWhatJudgeWrote(t *testing.T) {
	for _, failing := range []string{"", PairingTR} {
		r, pickles, sum := verifiable(t, failing)
		if errs := Verify(r, verifyProfile, pickles, sum); len(errs) > 0 {
			t.Errorf("failing pairing %q (verdict %s): %v", failing, r.Verdict, errs)
		}
	}
	if r, _, _ := verifiable(t, PairingRT); r.Verdict != NotCertified {
		t.Errorf("b failing with R as source: verdict %q, want %q (CERT-1 is mandatory)", r.Verdict, NotCertified)
	}
}

func TestVerifyFindsTampering(t *testing.T) {
	find := func(r *Report, id, pairing string) *Scenario {
		for i := range r.Requirements {
			if r.Requirements[i].ID == id {
				for j := range r.Requirements[i].Scenarios {
					if s := &r.Requirements[i].Scenarios[j]; s.Pairing == pairing {
						return s
					}
				}
			}
		}
		t.Fatalf("no %s scenario in %s", id, pairing)
		return nil
	}
	req := func(r *Report, id string) *Result {
		for i := range r.Requirements {
			if r.Requirements[i].ID == id {
				return &r.Requirements[i]
			}
		}
		t.Fatalf("no %s", id)
		return nil
	}
	tests := []struct {
		name    string
		failing string
		tamper  func(r *Report)
		want    string
	}{
		{"suite hash", "", func(r *Report) { r.Suite.FeaturesSHA256 = strings.Repeat("0", 64) }, "suite hash"},
		{"a passed scenario marked failed", "", func(r *Report) { find(r, "HV-2", PairingTR).Status = report.Failed }, "HV-2: recorded verdict passed"},
		{"a failed scenario marked passed", PairingTR, func(r *Report) { find(r, "EP-1", PairingTR).Status = report.Passed }, "EP-1: recorded verdict failed"},
		{"verdict upgraded", PairingRT, func(r *Report) { r.Verdict, r.Denied = Certified, nil }, "verdict: recorded"},
		{"CERT-1 upgraded", PairingRT, func(r *Report) { req(r, Interop).Verdict = report.VerdictPassed }, "CERT-1: recorded passed"},
		{"a failing scenario dropped with its verdict", PairingRT, func(r *Report) {
			res := req(r, "EP-1")
			res.Scenarios = res.Scenarios[:1]
			res.Verdict = report.VerdictPassed
		}, "CERT-1: recorded failed over 4 scenarios, the other requirements' pairings give passed over 2"},
		{"a scenario dropped from T->T", "", func(r *Report) { req(r, "HV-2").Scenarios = req(r, "HV-2").Scenarios[1:] }, "HV-2: T->T lists 0 scenarios, the suite tags 1"},
		{"optional made mandatory", "", func(r *Report) { req(r, "EP-1").Mandatory = true }, "EP-1: recorded as mandatory=true"},
		{"pairing counts", "", func(r *Report) { r.Pairings[1].Failed++ }, "pairing T->R: recorded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, pickles, sum := verifiable(t, tt.failing)
			tt.tamper(&r)
			errs := Verify(r, verifyProfile, pickles, sum)
			if !strings.Contains(Problems(errs), tt.want) {
				t.Errorf("problems:\n%swant one containing %q", Problems(errs), tt.want)
			}
		})
	}
}
