package policy

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/c2clab/c2clab/sim/code"
)

// rule is a Rule compiled for evaluation.
type rule struct {
	r         *Rule // &Engine.cfg.Rules[i]
	or        bool  // Operator "OR": any condition; otherwise all
	action    Action
	conds     []cond
	name      string // `access rule "Name" (order N)`
	matchLine string // trace line when the rule decides
	bareLine  string // the line before it when the rule has no conditions
	prefix    string // `access rule "Name" (order N): `, starting the lines before it
	// segmentCriteria: some condition bounds the segments the rule can
	// match (see cond.segmentVals), so the rule is filed per segment.
	segmentCriteria bool
}

// cond is a Condition: its operands grouped by kind. Grouping changes
// nothing: the condition's operator combines every operand, so it combines
// the groups and, within each group, the operands (POL-3 revised).
type cond struct {
	and     bool // Operator "AND": every operand; otherwise any
	negated bool
	pos     int       // index in Rule.Conditions, for traces
	label   string    // "conditions[N]" or "conditions[N] (id X)", for traces
	groups  []opGroup // in order of first appearance
}

// opGroup is the operands of one kind in a condition.
type opGroup struct {
	kind objKind
	all  bool   // the condition's operator is AND
	vals []sym  // the operands' values (see kindInfo.shape); sorted when sorted is set
	want []bool // flagInRHS kinds: rhs "true" (true) or "false"; otherwise all true
	// types names the object types of the group, for traces
	// ("COUNTRY_CODE"); kindOther and kindNotClientConnector hold several.
	types []string
	// texts name each operand as the API spells it, parallel to vals,
	// written once here so that a decision only picks them (because.go).
	texts []string
	// lines are the whole trace lines "RULE: conditions[N] (OR) holds by
	// OPERAND", parallel to vals, for an OR condition not negated; "" for
	// other conditions, whose lines are written when one decides.
	lines []string
	// sorted: vals are sorted for binary search (many values, OR).
	sorted bool
}

// compileRules checks the rules and compiles them in evaluation order.
func (e *Engine) compileRules() []error {
	var errs []error
	order := make([]int, len(e.cfg.Rules))
	ids := make(map[string]int, len(e.cfg.Rules))
	for i := range e.cfg.Rules {
		order[i] = i
		r := &e.cfg.Rules[i]
		if r.ID == "" {
			continue
		}
		if j, dup := ids[r.ID]; dup {
			errs = append(errs, &ConfigError{Segment: -1, Rule: i, Field: "id", Msg: fmt.Sprintf("%q is also the id of rules[%d]", r.ID, j)})
		} else {
			ids[r.ID] = i
		}
	}
	// POL-1: ascending ruleOrder; ties keep the file's order.
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(e.cfg.Rules[a].Order, e.cfg.Rules[b].Order) })
	e.rules = make([]rule, 0, len(order))
	for _, i := range order {
		cr, rerrs := e.compileRule(i, &e.cfg.Rules[i])
		errs = append(errs, rerrs...)
		e.rules = append(e.rules, cr)
	}
	return errs
}

var actionLines = map[Action]string{
	Allow:           "ALLOW",
	Deny:            code.BrkRejectedByPolicy.Sentence("DENY, which rejects the connection"),
	RequireApproval: "REQUIRE_APPROVAL, which allows only with an approval in force (POL-5)",
}

func (e *Engine) compileRule(i int, r *Rule) (rule, []error) {
	var errs []error
	bad := func(field, msg string) {
		errs = append(errs, &ConfigError{Segment: -1, Rule: i, Field: field, Msg: msg})
	}
	cr := rule{r: r, name: "access rule " + quote(r.Name) + " (order " + strconv.Itoa(r.Order) + ")"}
	cr.prefix = cr.name + ": "
	cr.action = Action(strings.ToUpper(string(r.Action)))
	if _, ok := actionLines[cr.action]; !ok {
		bad("action", fmt.Sprintf("is %q, want ALLOW, DENY or REQUIRE_APPROVAL", r.Action))
	}
	switch strings.ToUpper(r.Operator) {
	case "", "AND":
	case "OR":
		cr.or = true
	default:
		bad("operator", fmt.Sprintf("is %q, want AND or OR", r.Operator))
	}
	for j := range r.Conditions {
		c, msgs := e.compileCond(&r.Conditions[j])
		c.pos = j
		c.label = "conditions[" + strconv.Itoa(j) + "]"
		if id := r.Conditions[j].ID; id != "" {
			c.label += " (id " + id + ")"
		}
		c.writeLines(cr.prefix)
		for _, m := range msgs {
			bad(fmt.Sprintf("conditions[%d].%s", j, m[0]), m[1])
		}
		cr.conds = append(cr.conds, c)
	}
	cr.matchLine = cr.name + " matches: " + actionLines[cr.action]
	if len(cr.conds) == 0 {
		cr.bareLine = cr.name + " has no conditions, so it matches every request"
	}
	return cr, errs
}

// compileCond groups a condition's operands by kind. It returns problems as
// (field, message) pairs.
func (e *Engine) compileCond(c *Condition) (cond, [][2]string) {
	var msgs [][2]string
	out := cond{negated: c.Negated}
	switch strings.ToUpper(c.Operator) {
	case "", "OR":
	case "AND":
		out.and = true
	default:
		msgs = append(msgs, [2]string{"operator", fmt.Sprintf("is %q, want OR or AND", c.Operator)})
	}
	for k, op := range c.Operands {
		typ := strings.ToUpper(op.ObjectType)
		field := fmt.Sprintf("operands[%d]", k)
		if typ == "" {
			msgs = append(msgs, [2]string{field + ".objectType", "is empty, want an object type such as APP or SCIM_GROUP"})
			continue
		}
		kind := kindOf(typ)
		if kind == kindSCIM && op.LHS == "" {
			kind = kindUser // the lab's older spelling: SCIM with the user name in rhs
		}
		key, want, msg := e.operandKey(kind, op)
		if msg[0] != "" {
			msgs = append(msgs, [2]string{field + "." + msg[0], msg[1]})
			continue
		}
		g := out.group(kind, out.and)
		g.vals = append(g.vals, e.syms.intern(key))
		g.want = append(g.want, want)
		g.texts = append(g.texts, operandText(typ, op))
		if !slices.Contains(g.types, typ) {
			g.types = append(g.types, typ)
		}
	}
	for i := range out.groups {
		if g := &out.groups[i]; len(g.vals) > 8 && !g.all && kindInfos[g.kind].shape != flagInRHS {
			sortGroup(g)
			g.sorted = true
		}
	}
	return out, msgs
}

// operandKey returns the key an operand compares and, for flag kinds,
// whether the request must have it.
func (e *Engine) operandKey(kind objKind, op Operand) (string, bool, [2]string) {
	switch kindInfos[kind].shape {
	case flagInRHS:
		if op.LHS == "" {
			return "", false, [2]string{"lhs", "is empty, want the " + strings.ToUpper(op.ObjectType) + " value (platform, posture UDID, network ID or country code)"}
		}
		rhs := strings.ToLower(op.RHS)
		if rhs != "true" && rhs != "false" {
			return "", false, [2]string{"rhs", fmt.Sprintf("is %q, want true or false", op.RHS)}
		}
		return e.canon(kind, op.LHS), rhs == "true", [2]string{}
	case pairLHSRHS:
		if op.RHS == "" {
			return "", false, [2]string{"rhs", "is empty, want the attribute's value"}
		}
		return e.pairKey(kind, op.LHS, op.RHS), true, [2]string{}
	}
	if op.RHS == "" {
		return "", false, [2]string{"rhs", "is empty, want the " + strings.ToUpper(op.ObjectType) + " value to match"}
	}
	return e.canon(kind, op.RHS), true, [2]string{}
}

func (c *cond) group(kind objKind, all bool) *opGroup {
	for i := range c.groups {
		if c.groups[i].kind == kind {
			return &c.groups[i]
		}
	}
	c.groups = append(c.groups, opGroup{kind: kind, all: all})
	return &c.groups[len(c.groups)-1]
}
