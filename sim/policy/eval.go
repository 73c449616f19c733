package policy

import "slices"

// request is what rule evaluation looks at, resolved to symbols once per
// Decide.
type request struct {
	segID, segGroup sym
	user            sym
	groups          []sym // the user's groups that some rule mentions
	platform        sym
	clientType      sym
	posture         []sym // the device's posture profiles that some rule mentions
}

// match evaluates the rule. matched is the real answer; possible is whether
// it could match if the conditions the lab cannot evaluate (unmodelled
// operand types) matched, so the trace can say a rule was passed over for
// that reason.
func (r *rule) match(q *request) (matched, possible bool) {
	matched = r.eval(q, false)
	if matched || !r.unmodelled {
		return matched, matched
	}
	return false, r.eval(q, true)
}

// eval combines the conditions with the rule's operator; a rule without
// conditions matches everything. assume is the value of conditions with
// unmodelled operands.
func (r *rule) eval(q *request, assume bool) bool {
	for i := range r.conds {
		c := &r.conds[i]
		v := assume
		if c.unmodelled == "" {
			v = c.eval(q)
		}
		if v == r.or {
			return v
		}
	}
	return !r.or || len(r.conds) == 0
}

// eval is the AND of the condition's type groups (POL-3), inverted when
// Negated. A condition without operands matches.
func (c *cond) eval(q *request) bool {
	for i := range c.groups {
		if !c.groups[i].eval(q) {
			return c.negated
		}
	}
	return !c.negated
}

func (g *opGroup) eval(q *request) bool {
	switch g.kind {
	case kindApp:
		return g.single(q.segID)
	case kindAppGroup:
		return g.single(q.segGroup)
	case kindUser:
		return g.single(q.user)
	case kindClientType:
		return g.single(q.clientType)
	case kindSCIMGroup:
		return g.multi(q.groups)
	case kindPlatform:
		return g.flags(func(v sym) bool { return v == q.platform })
	case kindPosture:
		return g.flags(func(v sym) bool { return containsSym(q.posture, v) })
	}
	return false
}

// single matches one request value against the operands.
func (g *opGroup) single(x sym) bool {
	if g.all {
		for _, v := range g.vals {
			if v != x {
				return false
			}
		}
		return true
	}
	return g.has(x)
}

func (g *opGroup) has(x sym) bool {
	if g.sorted {
		_, ok := slices.BinarySearch(g.vals, x)
		return ok
	}
	return containsSym(g.vals, x)
}

// multi matches a set of request values (the user's groups).
func (g *opGroup) multi(xs []sym) bool {
	if g.all {
		for _, v := range g.vals {
			if !containsSym(xs, v) {
				return false
			}
		}
		return true
	}
	for _, x := range xs {
		if g.has(x) {
			return true
		}
	}
	return false
}

// flags matches operands that each say "has" (RHS true) or "has not".
func (g *opGroup) flags(has func(sym) bool) bool {
	for i, v := range g.vals {
		ok := has(v) == g.want[i]
		if ok != g.all {
			return ok
		}
	}
	return g.all
}

// tri is a partly known truth value.
type tri int8

const (
	no tri = iota
	maybe
	yes
)

// forSegment evaluates the rule knowing only the segment: no means the rule
// can never match a request to s, so it is not a candidate for s and does
// not count as covering s (POL-2).
func (r *rule) forSegment(s *segment) tri {
	if len(r.conds) == 0 {
		return yes
	}
	q := request{segID: s.id, segGroup: s.group}
	res := yes
	if r.or {
		res = no
	}
	for i := range r.conds {
		v := r.conds[i].forSegment(&q)
		switch {
		case r.or && v > res, !r.or && v < res:
			res = v
		}
	}
	return res
}

func (c *cond) forSegment(q *request) tri {
	if c.unmodelled != "" {
		return maybe
	}
	res := yes
	for i := range c.groups {
		g := &c.groups[i]
		if !g.kind.isSegmentKind() {
			res = maybe
			continue
		}
		if !g.eval(q) {
			res = no
			break
		}
	}
	if c.negated && res != maybe {
		res = yes - res
	}
	return res
}
