package tenant

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/c2clab/c2clab/sim/policy"
)

// platforms are the PLATFORM operand's LHS values in the ZPA API.
var platforms = map[string]bool{"windows": true, "mac": true, "linux": true, "ios": true, "android": true}

type ruleRef struct {
	field string
	rule  *fileRule
}

// rules converts rules and policySet.rules. They must come after segments
// (operands refer to segment and segment group ids) and users.
func (l *loader) rules() []policy.Rule {
	var refs []ruleRef
	for i := range l.f.Rules {
		refs = append(refs, ruleRef{fmt.Sprintf("rules[%d]", i), &l.f.Rules[i]})
	}
	refs = append(refs, l.pastedRuleRefs()...)
	ids, names, orders := map[string]bool{}, map[string]string{}, map[int]string{}
	var out []policy.Rule
	for pos, r := range refs {
		rule, ok, enabled := l.rule(r, pos+1)
		if rule.ID == "" {
			continue
		}
		if ids[rule.ID] {
			l.errorf(r.field+".id", "rule id %q is used twice; ids must be unique", rule.ID)
			continue
		}
		if prev, dup := names[rule.Name]; dup {
			l.errorf(r.field+".name", "rule name %q is already used by %s; names must be unique", rule.Name, prev)
			continue
		}
		ids[rule.ID], names[rule.Name] = true, r.field
		if !ok || !enabled {
			continue
		}
		if prev, dup := orders[rule.Order]; dup {
			l.warnf(r.field+".ruleOrder", "ruleOrder %d is also %s's; ZPA keeps orders unique, the lab evaluates equal orders in file order", rule.Order, prev)
		}
		orders[rule.Order] = r.field
		out = append(out, rule)
		l.ruleFields = append(l.ruleFields, r.field)
	}
	return out
}

// rule converts one rule; pos is its 1-based position, the default ruleOrder.
func (l *loader) rule(r ruleRef, pos int) (rule policy.Rule, ok, enabled bool) {
	fr := r.rule
	rule = policy.Rule{ID: strings.TrimSpace(fr.ID), Name: strings.TrimSpace(fr.Name), Order: pos}
	if rule.Name == "" {
		rule.Name = rule.ID
	}
	if rule.ID == "" {
		rule.ID = rule.Name
	}
	if rule.ID == "" {
		l.errorf(r.field+".name", "missing; want a rule name (and optionally an id)")
		return rule, false, false
	}
	nerr := len(l.errs)
	if s := strings.TrimSpace(fr.RuleOrder); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			l.errorf(r.field+".ruleOrder", "is %q, want a whole number (rules are evaluated in ascending ruleOrder)", fr.RuleOrder)
		}
		rule.Order = n
	}
	switch a := policy.Action(strings.ToUpper(strings.TrimSpace(fr.Action))); a {
	case policy.Allow, policy.Deny, policy.RequireApproval:
		rule.Action = a
	default:
		l.errorf(r.field+".action", "is %q, want ALLOW, DENY or REQUIRE_APPROVAL", fr.Action)
	}
	rule.Operator = l.operator(r.field+".operator", fr.Operator, "AND")
	enabled = true
	switch strings.ToLower(strings.TrimSpace(fr.Disabled)) {
	case "", "0", "false":
	case "1", "true":
		enabled = false
		l.notef(r.field+".disabled", "rule %q is disabled; ZPA does not evaluate it and the lab leaves it out", rule.Name)
	default:
		l.errorf(r.field+".disabled", "is %q, want 0 or 1 (or false or true)", fr.Disabled)
	}
	for i, c := range fr.Conditions {
		rule.Conditions = append(rule.Conditions, l.condition(fmt.Sprintf("%s.conditions[%d]", r.field, i), c))
	}
	return rule, len(l.errs) == nerr, enabled
}

func (l *loader) operator(field, s, def string) string {
	switch op := strings.ToUpper(strings.TrimSpace(s)); op {
	case "":
		return def
	case "AND", "OR":
		return op
	default:
		l.errorf(field, "is %q, want AND or OR", s)
		return def
	}
}

func (l *loader) condition(field string, c fileCondition) policy.Condition {
	out := policy.Condition{ID: strings.TrimSpace(c.ID), Operator: l.operator(field+".operator", c.Operator, "OR")}
	switch strings.ToLower(strings.TrimSpace(c.Negated)) {
	case "", "false":
	case "true":
		out.Negated = true
	default:
		l.errorf(field+".negated", "is %q, want true or false", c.Negated)
	}
	for _, r := range expandOperands(field, c.Operands) {
		if op, ok := l.operand(r.field, r.op); ok {
			l.resolveOperand(r.field, &op, r.op)
			out.Operands = append(out.Operands, op)
		}
	}
	return out
}

// operand checks one criterion against what the tenant defines: segments
// and segment groups must exist (an operand naming none can never match,
// which in ZPA would have been refused at save time); users and groups the
// tenant does not list only warn, since an export carries no user list.
func (l *loader) operand(field string, o fileOperand) (policy.Operand, bool) {
	op := policy.Operand{ObjectType: strings.ToUpper(strings.TrimSpace(o.ObjectType)), LHS: strings.TrimSpace(o.LHS), RHS: strings.TrimSpace(o.RHS)}
	switch op.ObjectType {
	case "":
		l.errorf(field+".objectType", "missing; want APP, APP_GROUP, SCIM_GROUP, SCIM, USER, PLATFORM, CLIENT_TYPE or POSTURE")
		return op, false
	case policy.ObjApp:
		return op, l.known(field, op.RHS, l.segIDs, "segment", "the id of a segment given (applicationSegments, or a body of GET /application: give every page)")
	case policy.ObjAppGroup:
		return op, l.known(field, op.RHS, l.segGroups, "segment group", "an id in segmentGroups or a segment's segmentGroupId")
	case policy.ObjSCIMGroup:
		if !l.needRHS(field, op.RHS, "the group's name or id") {
			return op, false
		}
		if len(l.users) > 0 && !l.userGroups[op.RHS] && !l.userGroups[l.objectName(op.ObjectType, op.RHS)] {
			l.warnf(field+".rhs", "no user in users is in group %q, so this operand matches nobody the tenant lists", op.RHS)
		}
	case policy.ObjSCIM, policy.ObjUser:
		if !l.needRHS(field, op.RHS, "the user's name") {
			return op, false
		}
		// A SCIM operand with an attribute (lhs) compares its value, not
		// a user name; only USER and the old lhs-less SCIM name users.
		if len(l.users) > 0 && !l.users[op.RHS] && (op.ObjectType == policy.ObjUser || op.LHS == "") {
			l.warnf(field+".rhs", "user %q is not in users", op.RHS)
		}
	case policy.ObjPlatform:
		if !platforms[strings.ToLower(op.LHS)] {
			l.errorf(field+".lhs", "is %q, want windows, mac, linux, ios or android", o.LHS)
			return op, false
		}
		op.LHS = strings.ToLower(op.LHS)
		switch r := strings.ToLower(op.RHS); r {
		case "":
			op.RHS = "true"
		case "true", "false":
			op.RHS = r
		default:
			l.errorf(field+".rhs", "is %q, want true (the source runs this platform, the default) or false", o.RHS)
			return op, false
		}
	case policy.ObjPosture:
		if op.LHS == "" {
			l.errorf(field+".lhs", "missing; want the posture profile's name or id")
			return op, false
		}
		if r := strings.ToLower(op.RHS); r != "true" && r != "false" {
			l.errorf(field+".rhs", "is %q, want true (the device satisfies the posture) or false", o.RHS)
			return op, false
		}
		op.RHS = strings.ToLower(op.RHS)
	case policy.ObjClientType:
		if !l.needRHS(field, op.RHS, "a client type such as "+policy.DefaultClientType) {
			return op, false
		}
	default:
		// The policy engine warns about operand types it does not model.
	}
	return op, true
}

func (l *loader) known(field, id string, set map[string]bool, what, want string) bool {
	switch {
	case id == "":
		l.errorf(field+".rhs", "missing; want the %s's id", what)
	case !set[id]:
		l.errorf(field+".rhs", "%s %q does not exist; want %s", what, id, want)
	default:
		return true
	}
	return false
}

func (l *loader) needRHS(field, rhs, want string) bool {
	if rhs == "" {
		l.errorf(field+".rhs", "missing; want %s", want)
		return false
	}
	return true
}
