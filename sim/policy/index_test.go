package policy

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/c2clab/c2clab/sim/code"
	"github.com/c2clab/c2clab/sim/device"
)

// randomTenant builds a small tenant whose rules use every operand type,
// negation, both operators and unmodelled types, to check the rule index
// against a plain scan.
func randomTenant(rng *rand.Rand) Config {
	cfg := Config{HostnameRegexes: []string{`.*`}}
	for i := range 6 {
		cfg.Segments = append(cfg.Segments, Segment{ID: fmt.Sprint("s", i), Name: fmt.Sprint("s", i), Enabled: true,
			Domains: []string{fmt.Sprintf("*.d%d.test", i)}, TCP: []PortRange{{1, 65535}}, GroupID: fmt.Sprint("sg", i%3)})
	}
	for u := range 5 {
		usr := User{Name: fmt.Sprint("u", u), Groups: Known()}
		if u == 4 {
			usr.Groups = Attr{} // unknown: rules on groups may be undecided
		}
		for g := range 4 {
			if rng.IntN(2) == 0 && usr.Groups.Known {
				usr.Groups.Values = append(usr.Groups.Values, fmt.Sprint("g", g))
			}
		}
		if rng.IntN(2) == 0 {
			usr.Risk = Known([]string{"LOW", "HIGH"}[rng.IntN(2)])
		}
		cfg.Users = append(cfg.Users, usr)
	}
	for i := range 12 {
		r := Rule{ID: fmt.Sprint(i), Name: fmt.Sprint("r", i), Order: rng.IntN(8), Action: Allow}
		if rng.IntN(2) == 0 {
			r.Action = Deny
		}
		if rng.IntN(4) == 0 {
			r.Operator = "OR"
		}
		for range rng.IntN(3) {
			r.Conditions = append(r.Conditions, randomCondition(rng))
		}
		cfg.Rules = append(cfg.Rules, r)
	}
	return cfg
}

func randomCondition(rng *rand.Rand) Condition {
	c := Condition{Negated: rng.IntN(5) == 0}
	if rng.IntN(5) == 0 {
		c.Operator = "AND"
	}
	for range 1 + rng.IntN(3) {
		var o Operand
		switch rng.IntN(9) {
		case 0:
			o = op(ObjApp, "", fmt.Sprint("s", rng.IntN(7)))
		case 1:
			o = op(ObjAppGroup, "", fmt.Sprint("sg", rng.IntN(4)))
		case 2:
			o = op(ObjSCIMGroup, "", fmt.Sprint("g", rng.IntN(4)))
		case 3:
			o = op(ObjUser, "", fmt.Sprint("u", rng.IntN(5)))
		case 4:
			o = op(ObjPlatform, []string{"windows", "mac", "linux"}[rng.IntN(3)], []string{"true", "false"}[rng.IntN(2)])
		case 5:
			o = op(ObjClientType, "", []string{DefaultClientType, "zpn_client_type_exporter"}[rng.IntN(2)])
		case 6:
			o = op(ObjPosture, fmt.Sprint("p", rng.IntN(2)), []string{"true", "false"}[rng.IntN(2)])
		case 7:
			o = []Operand{op(ObjIDP, "id", "x"), op(ObjCountry, "US", "true"), op(ObjCountry, "DE", "false"),
				op(ObjRiskFactor, "ZIA", "LOW"), op(ObjLocation, "id", "1"), op(ObjChromeEnterprise, "managed", "true")}[rng.IntN(6)]
		default:
			o = op(ObjApp, "", fmt.Sprint("s", rng.IntN(6)))
		}
		c.Operands = append(c.Operands, o)
	}
	return c
}

func randomRequest(rng *rand.Rand) Request {
	r := Request{
		User:     fmt.Sprint("u", rng.IntN(6)),
		Platform: []device.OS{device.Windows, device.MacOS, device.Linux}[rng.IntN(3)],
		FQDN:     fmt.Sprintf("pc.d%d.test", rng.IntN(6)),
		Port:     3389,
	}
	if rng.IntN(3) == 0 {
		r.ClientType = "zpn_client_type_exporter"
	}
	if rng.IntN(4) != 0 {
		r.Device.Posture = Known()
		for p := range 2 {
			if rng.IntN(2) == 0 {
				r.Device.Posture.Values = append(r.Device.Posture.Values, fmt.Sprint("p", p))
			}
		}
	}
	if rng.IntN(2) == 0 {
		r.Device.Country = Known([]string{"US", "DE"}[rng.IntN(2)])
	}
	return r
}

// TestRuleIndexMatchesScan checks that the indexes change nothing: the
// deciding rule is the first match of a plain scan in rule order, a segment
// is covered exactly when some rule can apply to it, and every rule that
// matches a request is among the request's candidates.
func TestRuleIndexMatchesScan(t *testing.T) {
	seed := uint64(rand.Int64())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	for range 500 {
		e := newEngine(t, randomTenant(rng))
		// The scan evaluates every rule as compiled alone, with its
		// conditions in the file's order (Decide's are reordered by keyLast).
		scan := make([]rule, len(e.rules))
		for rank := range e.rules {
			scan[rank], _ = e.compileRule(0, e.rules[rank].r)
		}
		for si := range e.segs {
			covered := len(e.global.all) > 0
			for rank := range e.rules {
				covered = covered || e.rules[rank].forSegment(&e.segs[si]) != no
			}
			if e.segs[si].covered != covered {
				t.Fatalf("segment %d covered=%v, scan says %v; rules %+v", si, e.segs[si].covered, covered, e.cfg.Rules)
			}
		}
		for range 30 {
			req := randomRequest(rng)
			d := e.Decide(req)
			si, _, _ := e.index.Lookup(req.FQDN)
			q := e.resolve(&e.segs[si], &req, make([]byte, 64))
			var want *Rule
			var wantUndecided bool
			for rank := range scan {
				m, mwhy := scan[rank].match(&q)
				if gm, gwhy := e.rules[rank].match(&q); gm != m || gwhy.cond != mwhy.cond {
					t.Fatalf("rule %+v: engine says %v (condition %d), compiled alone %v (%d)", e.rules[rank].r, gm, gwhy.cond, m, mwhy.cond)
				}
				if m != no {
					want, wantUndecided = scan[rank].r, m == maybe
					break
				}
			}
			if d.Segment != nil && d.Segment.Enabled && d.Code != code.BrkPortNotInSegment && (d.Rule != want || (d.Verdict == VerdictUndecided) != wantUndecided) {
				t.Fatalf("request %+v decided by %+v (%s), scan says %+v (undecided %v); rules %+v", req, d.Rule, d.Verdict, want, wantUndecided, e.cfg.Rules)
			}
			checkCandidates(t, e, si, &q)
		}
	}
}

func checkCandidates(t *testing.T, e *Engine, si int, q *request) {
	t.Helper()
	isCandidate := map[int32]bool{}
	c := e.candidates(si, q)
	last := int32(-1)
	for rank, ok := c.next(); ok; rank, ok = c.next() {
		if rank <= last {
			t.Fatalf("candidates out of order: %d after %d", rank, last)
		}
		last = rank
		isCandidate[rank] = true
	}
	for rank := range e.rules {
		r := &e.rules[rank]
		if v, _ := r.match(q); v != no && !isCandidate[int32(rank)] {
			t.Fatalf("rule %+v can match %+v but is no candidate", r.r, q)
		}
	}
}
