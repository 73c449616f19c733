package policy

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestTraceNamesOperands: the lines before a rule's match line name the
// conditions (by index and API id) and the operands (objectType, lhs, rhs,
// name) that made the rule match, in the file's order; an undecided answer
// names the operands the question does not describe.
func TestTraceNamesOperands(t *testing.T) {
	named := func(typ, lhs, rhs, name string) Operand {
		o := op(typ, lhs, rhs)
		o.Name = name
		return o
	}
	rule := func(operator string, conds ...Condition) Rule {
		return Rule{ID: "r", Name: "r", Order: 1, Action: Allow, Operator: operator, Conditions: conds}
	}
	many := []Operand{}
	for i := range 12 {
		many = append(many, op(ObjSCIMGroup, "idp", fmt.Sprintf("g%02d", i)))
	}
	many = append(many, op(ObjSCIMGroup, "idp", "helpdesk"))
	req := Request{User: "alice", FQDN: "testPC.example.com", Port: 3389}
	tests := []struct {
		name string
		rule Rule
		req  Request
		want string
	}{
		{"OR condition: the operand that holds, with the condition id and operand name",
			rule("", Condition{ID: "4630", Operands: []Operand{named(ObjApp, "id", "other", "Other"), named(ObjApp, "id", "ws", "Workstations")}}), req,
			`access rule "r" (order 1): conditions[0] (id 4630) (OR) holds by APP lhs "id" rhs "ws" ("Workstations")`},
		{"AND condition: every operand",
			rule("", Condition{Operator: "AND", Operands: []Operand{op(ObjApp, "id", "ws"), op(ObjSCIMGroup, "idp", "helpdesk")}}), req,
			`access rule "r" (order 1): conditions[0] (AND) holds: every operand holds: APP lhs "id" rhs "ws", SCIM_GROUP lhs "idp" rhs "helpdesk"`},
		{"negated OR: the operands that do not hold",
			rule("", Condition{Negated: true, Operands: []Operand{op(ObjSCIMGroup, "idp", "contractors"), op(ObjSCIMGroup, "idp", "auditors")}}), req,
			`access rule "r" (order 1): conditions[0] (negated OR) holds: none of its operands holds: SCIM_GROUP lhs "idp" rhs "contractors", SCIM_GROUP lhs "idp" rhs "auditors"`},
		{"negated AND: the operand that does not hold",
			rule("", Condition{Negated: true, Operator: "AND", Operands: []Operand{op(ObjSCIMGroup, "idp", "helpdesk"), op(ObjSCIMGroup, "idp", "contractors")}}), req,
			`access rule "r" (order 1): conditions[0] (negated AND) holds: SCIM_GROUP lhs "idp" rhs "contractors" does not`},
		{"rule OR: the first condition that holds, in the file's order",
			rule("OR", cnd(op(ObjSCIMGroup, "idp", "contractors")), cnd(op(ObjSCIMGroup, "idp", "admins")), cnd(op(ObjApp, "id", "ws"))), req,
			`access rule "r" (order 1): conditions[1] (OR) holds by SCIM_GROUP lhs "idp" rhs "admins"`},
		{"rule AND: every condition, in the file's order",
			rule("AND", cnd(op(ObjSCIMGroup, "idp", "admins")), cnd(op(ObjApp, "id", "ws"))), req,
			"access rule \"r\" (order 1): conditions[0] (OR) holds by SCIM_GROUP lhs \"idp\" rhs \"admins\"\n" +
				`access rule "r" (order 1): conditions[1] (OR) holds by APP lhs "id" rhs "ws"`},
		{"many operands, searched sorted: the text stays with its value",
			rule("", Condition{Operands: many}), Request{User: "carol", FQDN: "testPC.example.com", Port: 3389},
			`access rule "r" (order 1): conditions[0] (OR) holds by SCIM_GROUP lhs "idp" rhs "helpdesk"`},
		{"many operands that do not hold: four named, the rest counted",
			rule("", Condition{Negated: true, Operands: many[:12]}), req,
			`none of its operands holds: SCIM_GROUP lhs "idp" rhs "g00", SCIM_GROUP lhs "idp" rhs "g01", SCIM_GROUP lhs "idp" rhs "g02", SCIM_GROUP lhs "idp" rhs "g03" and 8 more`},
		{"no conditions", rule(""), req, `access rule "r" (order 1) has no conditions, so it matches every request`},
		{"undecided: the unknown operand",
			rule("", Condition{ID: "77", Operands: []Operand{named(ObjCountry, "DE", "true", "Germany")}}), req,
			`its conditions[0] (id 77) (COUNTRY_CODE: COUNTRY_CODE lhs "DE" rhs "true" ("Germany")) needs the source device's country`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// r0 never decides (APP other); it makes helpdesk's value sort
			// before g00's, so a sorted group is not in the file's order.
			r0 := Rule{ID: "r0", Name: "r0", Order: 0, Action: Deny, Conditions: []Condition{cnd(op(ObjApp, "id", "other")), cnd(op(ObjSCIMGroup, "idp", "helpdesk"))}}
			e := policyTenant(t, false, r0, tc.rule)
			d := e.Decide(tc.req)
			for _, want := range strings.Split(tc.want, "\n") { // one line each
				i := slices.IndexFunc(d.Trace, func(l string) bool { return strings.Contains(l, want) })
				switch {
				case i < 0:
					t.Errorf("trace lacks %q:%s", want, traceText(d.Trace))
				case d.Allowed && !strings.Contains(d.Trace[i+1], "matches: ALLOW") && !strings.Contains(d.Trace[i+1], `order 1): conditions`):
					t.Errorf("line %q is not followed by the rule's match line or another of its conditions:%s", want, traceText(d.Trace))
				}
			}
		})
	}
}

// The common case, a rule of OR conditions that hold by one operand,
// writes its lines when compiled: naming operands costs a decision no
// allocation beyond those of a decision that names none.
func TestTraceNamesOperandsWithoutAllocating(t *testing.T) {
	rule := Rule{ID: "r", Name: "r", Order: 1, Action: Allow, Conditions: []Condition{cnd(op(ObjApp, "id", "ws")), cnd(op(ObjSCIMGroup, "idp", "helpdesk"))}}
	named := policyTenant(t, false, rule)
	bare := policyTenant(t, false, Rule{ID: "r", Name: "r", Order: 1, Action: Allow})
	req := Request{User: "alice", FQDN: "testPC.example.com", Port: 3389}
	if d := named.Decide(req); !d.Allowed || !hasTrace(d.Trace, `conditions[1] (OR) holds by SCIM_GROUP`) {
		t.Fatalf("decision %+v", d)
	}
	withOps := testing.AllocsPerRun(200, func() { named.Decide(req) })
	without := testing.AllocsPerRun(200, func() { bare.Decide(req) })
	if withOps > without {
		t.Fatalf("a decision naming two operands allocates %.0f times, one by a rule without conditions %.0f", withOps, without)
	}
}

// TestTraceNamesMisses: asked for (TraceMisses, as explain and check do),
// each rule evaluated that did not match gets a line naming the condition
// and the operands that failed; the broker's decisions, not asking, get
// none.
func TestTraceNamesMisses(t *testing.T) {
	rule := func(id string, order int, operator string, conds ...Condition) Rule {
		return Rule{ID: id, Name: id, Order: order, Action: Deny, Operator: operator, Conditions: conds}
	}
	allowAll := Rule{ID: "all", Name: "all", Order: 9, Action: Allow}
	tests := []struct {
		name string
		rule Rule
		want string
	}{
		{"OR condition: none holds", rule("m", 1, "", cnd(op(ObjSCIMGroup, "idp", "contractors"), op(ObjSCIMGroup, "idp", "auditors"))),
			`access rule "m" (order 1) does not match: conditions[0] (OR) does not hold: none of its operands holds: SCIM_GROUP lhs "idp" rhs "contractors", SCIM_GROUP lhs "idp" rhs "auditors"`},
		{"AND condition: the operand that does not hold", rule("m", 1, "", Condition{Operator: "AND", Operands: []Operand{op(ObjSCIMGroup, "idp", "helpdesk"), op(ObjSCIMGroup, "idp", "contractors")}}),
			`access rule "m" (order 1) does not match: conditions[0] (AND) does not hold: SCIM_GROUP lhs "idp" rhs "contractors" does not`},
		{"negated OR: the operand that holds", rule("m", 1, "", Condition{ID: "9", Negated: true, Operands: []Operand{op(ObjSCIMGroup, "idp", "contractors"), op(ObjSCIMGroup, "idp", "admins")}}),
			`access rule "m" (order 1) does not match: conditions[0] (id 9) (negated OR) does not hold: SCIM_GROUP lhs "idp" rhs "admins" holds`},
		{"AND rule: the first condition that fails, in the file's order", rule("m", 1, "AND", cnd(op(ObjApp, "id", "ws")), cnd(op(ObjSCIMGroup, "idp", "contractors"))),
			`access rule "m" (order 1) does not match: conditions[1] (OR) does not hold: none of its operands holds: SCIM_GROUP lhs "idp" rhs "contractors"`},
	}
	req := Request{User: "alice", FQDN: "testPC.example.com", Port: 3389}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := policyTenant(t, false, tc.rule, allowAll)
			asked := req
			asked.TraceMisses = true
			d := e.Decide(asked)
			if !d.Allowed || !hasTrace(d.Trace, tc.want) {
				t.Fatalf("allowed %v, trace lacks %q:%s", d.Allowed, tc.want, traceText(d.Trace))
			}
			if d := e.Decide(req); hasTrace(d.Trace, "does not match") {
				t.Fatalf("a decision not asking for misses traces them:%s", traceText(d.Trace))
			}
		})
	}
}

// TestTraceMissesDecidesTheSame: on random tenants, asking for the misses
// changes no decision (the engine then walks every rule that may apply
// instead of the index's shortlist), and the lines naming operands always
// find the operand they name.
func TestTraceMissesDecidesTheSame(t *testing.T) {
	seed := uint64(rand.Int64())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	for range 300 {
		e := newEngine(t, randomTenant(rng))
		for range 20 {
			req := randomRequest(rng)
			d := e.Decide(req)
			asked := req
			asked.TraceMisses = true
			m := e.Decide(asked)
			if d.Allowed != m.Allowed || d.Code != m.Code || d.Rule != m.Rule || d.Verdict != m.Verdict {
				t.Fatalf("request %+v: %v %q rule %v without misses, %v %q rule %v with; rules %+v", req, d.Allowed, d.Code, d.Rule, m.Allowed, m.Code, m.Rule, e.cfg.Rules)
			}
			if hasTrace(m.Trace, "no operand found") {
				t.Fatalf("request %+v: a line names no operand:%s\nrules %+v", req, traceText(m.Trace), e.cfg.Rules)
			}
		}
	}
}
