package policy

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// objKind is an operand object type the engine models.
type objKind uint8

const (
	kindUnmodelled objKind = iota
	kindApp
	kindAppGroup
	kindSCIMGroup
	kindUser
	kindPlatform
	kindClientType
	kindPosture
)

var kinds = map[string]objKind{
	ObjApp: kindApp, ObjAppGroup: kindAppGroup, ObjSCIMGroup: kindSCIMGroup,
	ObjUser: kindUser, ObjSCIM: kindUser, ObjPlatform: kindPlatform,
	ObjClientType: kindClientType, ObjPosture: kindPosture,
}

// isSegmentKind: the operand depends only on the chosen segment.
func (k objKind) isSegmentKind() bool { return k == kindApp || k == kindAppGroup }

// rule is a Rule compiled for evaluation.
type rule struct {
	r     *Rule // &Engine.cfg.Rules[i]
	or    bool  // Operator "OR": any condition; otherwise all
	deny  bool
	conds []cond
	// unmodelled: some condition uses an operand type the lab does not model.
	unmodelled bool
	// segmentCriteria: some modelled condition has APP or APP_GROUP operands.
	segmentCriteria bool
	name            string // `access rule "Name" (order N)`
	matchLine       string // trace line when the rule decides
	skipLine        string // trace line when only unmodelled criteria kept it from matching
}

// cond is a Condition: its operands grouped by object type.
type cond struct {
	negated bool
	groups  []opGroup // one per object type, ANDed
	// unmodelled is the first operand type the lab does not model, "" if
	// none. Such a condition never matches (whatever Negated says): the lab
	// cannot know, and says so in the trace.
	unmodelled string
}

// opGroup is the operands of one object type in a condition: ORed, or all
// required when the condition's operator is AND.
type opGroup struct {
	kind objKind
	all  bool
	vals []sym  // RHS, or LHS for PLATFORM and POSTURE; sorted when sorted is set
	want []bool // PLATFORM and POSTURE: RHS "true" (true) or "false"
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
		cr, rerrs := compileRule(i, &e.cfg.Rules[i], &e.syms)
		errs = append(errs, rerrs...)
		e.rules = append(e.rules, cr)
	}
	return errs
}

func compileRule(i int, r *Rule, syms *symbols) (rule, []error) {
	var errs []error
	bad := func(field, msg string) {
		errs = append(errs, &ConfigError{Segment: -1, Rule: i, Field: field, Msg: msg})
	}
	cr := rule{r: r, name: "access rule " + quote(r.Name) + " (order " + strconv.Itoa(r.Order) + ")"}
	switch Action(strings.ToUpper(string(r.Action))) {
	case Allow:
	case Deny:
		cr.deny = true
	default:
		bad("action", fmt.Sprintf("is %q, want ALLOW or DENY", r.Action))
	}
	switch strings.ToUpper(r.Operator) {
	case "", "AND":
	case "OR":
		cr.or = true
	default:
		bad("operator", fmt.Sprintf("is %q, want AND or OR", r.Operator))
	}
	var unmodelled []string
	for j := range r.Conditions {
		c, msgs := compileCond(&r.Conditions[j], syms)
		if c.unmodelled != "" && !slices.Contains(unmodelled, c.unmodelled) {
			unmodelled = append(unmodelled, c.unmodelled)
		}
		for _, m := range msgs {
			bad(fmt.Sprintf("conditions[%d].%s", j, m[0]), m[1])
		}
		cr.unmodelled = cr.unmodelled || c.unmodelled != ""
		cr.segmentCriteria = cr.segmentCriteria || c.unmodelled == "" && c.hasSegmentKind()
		cr.conds = append(cr.conds, c)
	}
	action := "ALLOW"
	if cr.deny {
		action = "DENY, which rejects the connection (BRK_MT_SETUP_FAIL_REJECTED_BY_POLICY)"
	}
	cr.matchLine = cr.name + " matches: " + action
	cr.skipLine = cr.name + " might match, but it uses " + strings.Join(unmodelled, ", ") +
		", which the lab does not model, so it is treated as not matching"
	return cr, errs
}

// compileCond groups a condition's operands by type. It returns problems as
// (field, message) pairs.
func compileCond(c *Condition, syms *symbols) (cond, [][2]string) {
	var msgs [][2]string
	out := cond{negated: c.Negated}
	all := false
	switch strings.ToUpper(c.Operator) {
	case "", "OR":
	case "AND":
		all = true
	default:
		msgs = append(msgs, [2]string{"operator", fmt.Sprintf("is %q, want OR or AND", c.Operator)})
	}
	for k, op := range c.Operands {
		typ := strings.ToUpper(op.ObjectType)
		kind, modelled := kinds[typ]
		field := fmt.Sprintf("operands[%d]", k)
		switch {
		case typ == "":
			msgs = append(msgs, [2]string{field + ".objectType", "is empty, want an object type such as APP or SCIM_GROUP"})
			continue
		case !modelled:
			if out.unmodelled == "" {
				out.unmodelled = typ
			}
			continue
		}
		val, want, msg := operandValue(kind, op)
		if msg[0] != "" {
			msgs = append(msgs, [2]string{field + "." + msg[0], msg[1]})
			continue
		}
		g := out.group(kind, all)
		g.vals = append(g.vals, syms.intern(val))
		g.want = append(g.want, want)
	}
	for i := range out.groups {
		if g := &out.groups[i]; len(g.vals) > 8 && !g.all && g.kind != kindPlatform && g.kind != kindPosture {
			slices.Sort(g.vals)
			g.sorted = true
		}
	}
	return out, msgs
}

// operandValue returns the value an operand compares and, for PLATFORM and
// POSTURE, whether the request must have it.
func operandValue(kind objKind, op Operand) (string, bool, [2]string) {
	switch kind {
	case kindPlatform, kindPosture:
		if op.LHS == "" {
			return "", false, [2]string{"lhs", "is empty, want the platform (windows, mac, linux, ios, android) or posture profile"}
		}
		rhs := strings.ToLower(op.RHS)
		if rhs != "true" && rhs != "false" {
			return "", false, [2]string{"rhs", fmt.Sprintf("is %q, want true or false", op.RHS)}
		}
		lhs := op.LHS
		if kind == kindPlatform {
			lhs = strings.ToLower(lhs)
		}
		return lhs, rhs == "true", [2]string{}
	}
	if op.RHS == "" {
		return "", false, [2]string{"rhs", "is empty, want the " + strings.ToUpper(op.ObjectType) + " value to match"}
	}
	return op.RHS, true, [2]string{}
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

func (c *cond) hasSegmentKind() bool {
	for i := range c.groups {
		if c.groups[i].kind.isSegmentKind() {
			return true
		}
	}
	return false
}
