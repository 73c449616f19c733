package check

import (
	"fmt"

	"github.com/c2clab/c2clab/sim/policy"
	"github.com/c2clab/c2clab/sim/tenant"
)

// Result is one test's outcome.
type Result struct {
	Name  string `json:"name"`
	Where string `json:"where"`
	Pass  bool   `json:"pass"`
	// Expected and Got read "allow" or "deny CODE".
	Expected string `json:"expected"`
	Got      string `json:"got"`
	// Error is set when the question could not be answered at all.
	Error  string  `json:"error,omitempty"`
	Answer *Answer `json:"answer,omitempty"`
}

// Run answers every test of t and compares with its expectation. The
// engine is built once; each test registers its own devices and removes
// them after, so tests do not see each other's devices.
func Run(t *tenant.Tenant) []Result {
	out := make([]Result, 0, len(t.Tests))
	e, engineErr := t.Engine()
	for _, tt := range t.Tests {
		r := Result{Name: tt.Name, Where: tt.Where, Expected: expected(tt)}
		if engineErr != nil {
			r.Error, r.Got = "tenant policy: "+engineErr.Error(), "error"
			out = append(out, r)
			continue
		}
		a, err := explainOn(e, Question{User: tt.User, From: tt.From, Devices: tt.Devices, FQDN: tt.FQDN, Port: tt.Port, Proto: tt.Proto, Time: tt.At})
		if err != nil {
			r.Error, r.Got = err.Error(), "error"
			out = append(out, r)
			continue
		}
		r.Answer, r.Got = &a, Verdict(a)
		r.Pass = a.Verdict == expectOf(tt) && (tt.Code == "" || tt.Code == a.Code)
		out = append(out, r)
	}
	return out
}

// expectOf is the verdict t expects; a Test built in code may set only
// ExpectAllow.
func expectOf(t tenant.Test) policy.Verdict {
	switch {
	case t.Expect != "":
		return t.Expect
	case t.ExpectAllow:
		return policy.VerdictAllowed
	}
	return policy.VerdictDenied
}

func expected(t tenant.Test) string {
	switch expectOf(t) {
	case policy.VerdictAllowed:
		return "allow"
	case policy.VerdictUndecided:
		return "undecided"
	}
	switch {
	case t.Code != "":
		return "deny " + string(t.Code)
	}
	return "deny"
}

// Verdict reads "allow (Client to Client)" or "deny CODE".
func Verdict(a Answer) string {
	if a.Allowed {
		return fmt.Sprintf("allow (%s)", a.AccessType)
	}
	if u := a.Undecided; a.Verdict == policy.VerdictUndecided && u != nil && u.Rule != "" {
		return fmt.Sprintf("undecided: rule %q needs %s", u.Rule, u.Attribute)
	} else if a.Verdict == policy.VerdictUndecided && u != nil {
		return fmt.Sprintf("undecided: %s needs %s", u.ObjectType, u.Attribute)
	}
	return "deny " + string(a.Code)
}
