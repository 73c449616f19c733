package policy

import (
	"slices"
	"strconv"
	"strings"
)

// Operand names in traces: the lines before a rule's verdict say which of
// its conditions and operands made it match, or which operand needs what
// the question does not describe. The operand texts are written when the
// rule is compiled; a decision only walks the one rule that decided and
// joins a few of them, so the rules that did not decide cost nothing.

// maxNamed bounds the operands one trace line lists; the rest are counted.
const maxNamed = 4

// operandText is an operand as the API spells it: objectType, lhs, rhs
// and, when the tenant gives one, the name of what it points at.
func operandText(typ string, op Operand) string {
	var b strings.Builder
	b.WriteString(typ)
	if op.LHS != "" {
		b.WriteString(" lhs " + quote(op.LHS))
	}
	b.WriteString(" rhs " + quote(op.RHS))
	if op.Name != "" {
		b.WriteString(" (" + quote(op.Name) + ")")
	}
	return b.String()
}

// sortGroup sorts g's values for binary search, keeping each operand's
// text and flag beside its value.
func sortGroup(g *opGroup) {
	idx := make([]int, len(g.vals))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return int(g.vals[a]) - int(g.vals[b]) })
	vals, want, texts := slices.Clone(g.vals), slices.Clone(g.want), slices.Clone(g.texts)
	for i, j := range idx {
		g.vals[i], g.want[i], g.texts[i] = vals[j], want[j], texts[j]
	}
}

// holds is operand i of g for request q, as eval combines them.
func (g *opGroup) holds(i int, q *request) tri {
	v := g.vals[i]
	switch g.kind {
	case kindApp:
		return boolTri(v == q.segID)
	case kindAppGroup:
		return boolTri(v == q.segGroup)
	case kindUser:
		return boolTri(v == q.user)
	case kindClientType:
		return boolTri(v == q.clientType)
	case kindPlatform:
		return boolTri((v == q.platform) == g.want[i])
	case kindOther, kindChrome:
		return maybe
	}
	s := q.set(g.kind)
	if !s.known {
		return maybe
	}
	return boolTri(containsSym(s.vals, v) == g.want[i])
}

// operands lists the texts of c's operands whose value for q is want, at
// most maxNamed of them, and how many there are.
func (c *cond) operands(q *request, want tri) (names []string, n int) {
	for gi := range c.groups {
		g := &c.groups[gi]
		for i := range g.vals {
			if g.holds(i, q) != want {
				continue
			}
			if n++; n <= maxNamed {
				names = append(names, g.texts[i])
			}
		}
	}
	return names, n
}

func listed(names []string, n int) string {
	s := strings.Join(names, ", ")
	if n > len(names) {
		s += " and " + strconv.Itoa(n-len(names)) + " more"
	}
	return s
}

// because says why c holds for q: the operand that holds (OR), every
// operand (AND), and for a negated condition the operands that do not.
// prefix starts the line. The common form, an OR condition that holds by
// one operand, was written when the rule was compiled (opGroup.lines).
func (c *cond) because(prefix string, q *request) string {
	if len(c.groups) == 0 {
		return prefix + c.label + " has no operands"
	}
	switch {
	case !c.negated && !c.and:
		for gi := range c.groups {
			g := &c.groups[gi]
			for i := range g.vals {
				if g.holds(i, q) == yes {
					return g.lines[i]
				}
			}
		}
		return prefix + c.label + " (OR) holds by (no operand found)" // eval and holds disagree: never
	case !c.negated:
		names, n := c.operands(q, yes)
		return prefix + c.label + " (AND) holds: every operand holds: " + listed(names, n)
	case !c.and:
		names, n := c.operands(q, no)
		return prefix + c.label + " (negated OR) holds: none of its operands holds: " + listed(names, n)
	}
	names, _ := c.operands(q, no)
	return prefix + c.label + " (negated AND) holds: " + first(names) + " does not"
}

// first is names[0]; eval and holds agree, so names is never empty, but a
// trace must not take the broker down if they ever do not.
func first(names []string) string {
	if len(names) == 0 {
		return "(no operand found)"
	}
	return names[0]
}

// writeLines fills the groups' lines: for an OR condition that is not
// negated, the whole trace line saying that it holds by each operand.
func (c *cond) writeLines(prefix string) {
	for gi := range c.groups {
		g := &c.groups[gi]
		g.lines = make([]string, len(g.texts))
		if c.and || c.negated {
			continue
		}
		for i, t := range g.texts {
			g.lines[i] = prefix + c.label + " (OR) holds by " + t
		}
	}
}

// appendBecause appends to trace the lines before r's match line, one per
// condition that made r match q, in the file's order (the engine may
// evaluate ANDed conditions in another, index.go): every one when the
// rule's operator is AND, the first that holds when OR.
func (r *rule) appendBecause(trace []string, q *request) []string {
	if len(r.conds) == 0 {
		return append(trace, r.bareLine)
	}
	for pos := range r.conds {
		c := r.condAt(pos)
		if v, _ := c.eval(q); v != yes {
			continue
		}
		trace = append(trace, c.because(r.prefix, q))
		if r.or {
			break
		}
	}
	return trace
}

// condAt is the condition at pos in the file's order.
func (r *rule) condAt(pos int) *cond {
	for i := range r.conds {
		if r.conds[i].pos == pos {
			return &r.conds[i]
		}
	}
	return &r.conds[pos]
}

// unknownOperands names the operands of group g, which the question does
// not describe, for the trace of an undecided answer.
func (g *opGroup) unknownOperands(q *request) string {
	var names []string
	n := 0
	for i := range g.vals {
		if g.holds(i, q) != maybe {
			continue
		}
		if n++; n <= maxNamed {
			names = append(names, g.texts[i])
		}
	}
	return listed(names, n)
}

// condLabel is the label of the condition at pos in the file's order.
func (r *rule) condLabel(pos int) string { return r.condAt(pos).label }

// appendMisses appends the lines saying why r does not match q: for an
// AND rule the first condition, in the file's order, that does not hold;
// for an OR rule each of them (none holds).
func (r *rule) appendMisses(trace []string, q *request) []string {
	prefix := r.name + " does not match: "
	for pos := range r.conds {
		c := r.condAt(pos)
		if v, _ := c.eval(q); v != no {
			continue
		}
		trace = append(trace, c.fails(prefix, q))
		if !r.or {
			break
		}
	}
	return trace
}

// fails says why c does not hold for q: no operand holds (OR), one does
// not (AND); for a negated condition the operand that holds (OR), or
// every operand (AND).
func (c *cond) fails(prefix string, q *request) string {
	switch {
	case !c.negated && !c.and:
		names, n := c.operands(q, no)
		return prefix + c.label + " (OR) does not hold: none of its operands holds: " + listed(names, n)
	case !c.negated:
		names, _ := c.operands(q, no)
		return prefix + c.label + " (AND) does not hold: " + first(names) + " does not"
	case !c.and:
		names, _ := c.operands(q, yes)
		return prefix + c.label + " (negated OR) does not hold: " + first(names) + " holds"
	}
	names, n := c.operands(q, yes)
	return prefix + c.label + " (negated AND) does not hold: every operand holds: " + listed(names, n)
}
