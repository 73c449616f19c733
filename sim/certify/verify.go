package certify

import (
	"fmt"
	"slices"
	"strings"

	"github.com/c2clab/c2clab/sim/report"
)

// Verify checks that a report follows from its own recorded results and
// from the suite at hand: the features it names by hash (featuresSHA256
// and pickles are the checkout's), the profile p, every scenario the
// profile's tags select present in the first pairing, each requirement's
// verdict and the report's verdict recomputed by the rules Judge applies.
// It returns every problem found; none means the report is consistent.
func Verify(r Report, p Profile, pickles []Pickle, featuresSHA256 string) []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if r.Suite.FeaturesSHA256 != featuresSHA256 {
		bad("suite hash: the report names features %s, the checkout's are %s", r.Suite.FeaturesSHA256, featuresSHA256)
	}
	if r.Suite.Profile != p.Name {
		bad("profile: the report names %q, this c2clab certifies %q", r.Suite.Profile, p.Name)
	}
	byID := map[string]Result{}
	for _, res := range r.Requirements {
		byID[res.ID] = res
	}
	var results []Result
	for _, req := range p.Requirements {
		res, ok := byID[req.ID]
		switch {
		case !ok:
			bad("%s: missing from the report", req.ID)
			continue
		case res.Mandatory != req.Mandatory:
			bad("%s: recorded as mandatory=%v, the profile says %v", req.ID, res.Mandatory, req.Mandatory)
		}
		if req.ID != Interop {
			errs = append(errs, checkScenarios(res, pickles)...)
			if got := report.Judge(report.Requirement{ID: req.ID}, refs(res.Scenarios)).Verdict; got != res.Verdict {
				bad("%s: recorded verdict %s, its recorded scenarios give %s", req.ID, res.Verdict, got)
			}
		}
		res.Requirement = req
		results = append(results, res)
	}
	if len(r.Requirements) != len(p.Requirements) {
		bad("the report judges %d requirements, the profile has %d", len(r.Requirements), len(p.Requirements))
	}
	if req, ok := p.Requirement(Interop); ok {
		var others []Result
		for _, res := range results {
			if res.ID != Interop {
				others = append(others, res)
			}
		}
		want := interop(req, "", others)
		if got := byID[Interop]; got.Verdict != want.Verdict || len(got.Scenarios) != len(want.Scenarios) {
			bad("%s: recorded %s over %d scenarios, the other requirements' pairings give %s over %d", Interop, got.Verdict, len(got.Scenarios), want.Verdict, len(want.Scenarios))
		}
	}
	verdict, denied := NotCertified, 0
	for _, res := range results {
		if res.Mandatory && res.Verdict != report.VerdictPassed {
			denied++
		}
	}
	if denied == 0 {
		verdict = Certified
	}
	if r.Verdict != verdict || len(r.Denied) != denied {
		bad("verdict: recorded %q with %d denials, the recorded results give %q with %d", r.Verdict, len(r.Denied), verdict, denied)
	}
	return append(errs, checkPairings(r)...)
}

func refs(scs []Scenario) []report.ScenarioRef {
	out := make([]report.ScenarioRef, len(scs))
	for i, s := range scs {
		out[i] = report.ScenarioRef{URI: s.File, Name: s.Name, Line: s.Line, Status: s.Status, Reason: s.Reason}
	}
	return out
}

// checkScenarios checks that res lists, in the first pairing, exactly the
// scenarios the suite tags with its ID, and in the other pairings only
// scenarios of the first, the same in both.
func checkScenarios(res Result, pickles []Pickle) []error {
	var want []string
	for _, p := range pickles {
		if p.HasTag("@" + res.ID) {
			want = append(want, p.URI+": "+p.Name)
		}
	}
	got := map[string][]string{}
	for _, s := range res.Scenarios {
		got[s.Pairing] = append(got[s.Pairing], s.File+": "+s.Name)
	}
	slices.Sort(want)
	var errs []error
	if _, ok := got[PairingTT]; !ok {
		got[PairingTT] = nil
	}
	for pairing, names := range got {
		slices.Sort(names)
		switch {
		case pairing == PairingTT && !slices.Equal(names, want):
			errs = append(errs, fmt.Errorf("%s: %s lists %d scenarios, the suite tags %d with it%s", res.ID, pairing, len(names), len(want), diff(names, want)))
		case pairing != PairingTT && pairing != PairingTR && pairing != PairingRT:
			errs = append(errs, fmt.Errorf("%s: unknown pairing %q", res.ID, pairing))
		case pairing != PairingTT && !subset(names, want):
			errs = append(errs, fmt.Errorf("%s: %s lists a scenario the suite does not tag with it%s", res.ID, pairing, diff(names, want)))
		}
	}
	tr, rt := got[PairingTR], got[PairingRT]
	if !slices.Equal(tr, rt) {
		errs = append(errs, fmt.Errorf("%s: %s ran %d scenarios, %s %d: both run the same ones", res.ID, PairingTR, len(tr), PairingRT, len(rt)))
	}
	return errs
}

func subset(a, of []string) bool {
	for _, x := range a {
		if !slices.Contains(of, x) {
			return false
		}
	}
	return true
}

// diff names the first scenario in one list and not the other.
func diff(got, want []string) string {
	for _, g := range got {
		if !slices.Contains(want, g) {
			return fmt.Sprintf(" (not in the suite: %q)", g)
		}
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			return fmt.Sprintf(" (missing: %q)", w)
		}
	}
	return ""
}

// checkPairings checks each pairing's counts against the distinct
// scenarios the requirements list for it.
func checkPairings(r Report) []error {
	type key struct{ pairing, id string }
	status := map[key]report.Status{}
	for _, res := range r.Requirements {
		for _, s := range res.Scenarios {
			status[key{s.Pairing, fmt.Sprintf("%s:%d:%s", s.File, s.Line, s.Name)}] = s.Status
		}
	}
	var errs []error
	for _, p := range r.Pairings {
		var pass, fail, skip int
		for k, st := range status {
			if k.pairing != p.Pairing {
				continue
			}
			switch st {
			case report.Passed:
				pass++
			case report.Skipped:
				skip++
			default:
				fail++
			}
		}
		if pass != p.Passed || fail != p.Failed || skip != p.Skipped {
			errs = append(errs, fmt.Errorf("pairing %s: recorded %d passed, %d failed, %d skipped; its scenarios give %d, %d, %d",
				p.Pairing, p.Passed, p.Failed, p.Skipped, pass, fail, skip))
		}
	}
	return errs
}

// Problems lists problems one a line, for the CLI.
func Problems(errs []error) string {
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "  %v\n", e)
	}
	return b.String()
}
