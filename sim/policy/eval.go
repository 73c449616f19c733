package policy

import "slices"

// tri is a truth value that may be unknown (POL-4: Kleene's logic, so that
// an unknown attribute decides only where it could change the answer).
type tri int8

const (
	no tri = iota
	maybe
	yes
)

func (t tri) not() tri { return yes - t }

// attrSet is one attribute of the request that may be unknown.
type attrSet struct {
	known bool
	vals  []sym // the values some rule mentions
}

// request is what rule evaluation looks at, resolved to symbols once per
// Decide.
type request struct {
	segID, segGroup sym
	user            sym
	platform        sym
	clientType      sym
	clientConnector bool // the source is a Client Connector (zapp or machine tunnel)
	// ident holds the listed user's identity attributes; nil when the
	// user is not listed (every one unknown). Shared with the engine: read only.
	ident *[numKinds]attrSet
	dev   [kindMachineGroup - kindPosture + 1]attrSet // the device's, kindPosture first
}

// set returns the request's attribute of a set kind.
func (q *request) set(k objKind) *attrSet {
	switch {
	case k >= kindPosture && k <= kindMachineGroup:
		return &q.dev[k-kindPosture]
	case k == kindNotClientConnector && q.clientConnector:
		return &knownNone
	case k < kindPosture && q.ident != nil:
		return &q.ident[k]
	}
	return &unknownSet
}

// knownNone and unknownSet are shared, never written.
var knownNone, unknownSet = attrSet{known: true}, attrSet{}

// match evaluates the rule. When the answer is maybe, why is the kind and
// condition that left it open (the first in the file's order).
func (r *rule) match(q *request) (v tri, why unknownAt) {
	if len(r.conds) == 0 {
		return yes, why
	}
	v = yes
	if r.or {
		v = no
	}
	why.cond = -1
	for i := range r.conds {
		c := &r.conds[i]
		cv, g := c.eval(q)
		switch {
		case r.or && cv == yes, !r.or && cv == no:
			return cv, unknownAt{cond: -1}
		case cv == maybe:
			v = maybe
			if why.cond < 0 || c.pos < why.cond {
				why = unknownAt{cond: c.pos, group: g}
			}
		}
	}
	return v, why
}

// unknownAt is where an evaluation met an unknown attribute.
type unknownAt struct {
	cond  int      // Rule.Conditions index, -1 if none
	group *opGroup // the group that was unknown
}

// eval combines the condition's operands with its operator, then negates.
// A condition without operands matches.
func (c *cond) eval(q *request) (tri, *opGroup) {
	if len(c.groups) == 0 {
		return yes, nil
	}
	v := no
	if c.and {
		v = yes
	}
	var why *opGroup
	for i := range c.groups {
		g := &c.groups[i]
		gv := g.eval(q)
		if c.and && gv == no || !c.and && gv == yes {
			v, why = gv, nil
			break
		}
		if gv == maybe {
			if why == nil {
				why = g
			}
			v = maybe
		}
	}
	if c.negated {
		v = v.not()
	}
	return v, why
}

func (g *opGroup) eval(q *request) tri {
	switch g.kind {
	case kindApp:
		return g.single(q.segID)
	case kindAppGroup:
		return g.single(q.segGroup)
	case kindUser:
		return g.single(q.user)
	case kindClientType:
		return g.single(q.clientType)
	case kindPlatform:
		return g.flags(func(v sym) bool { return v == q.platform })
	case kindOther, kindChrome:
		return maybe
	}
	s := q.set(g.kind)
	if !s.known {
		return maybe
	}
	if kindInfos[g.kind].shape != flagInRHS && !g.all {
		return g.multi(s.vals)
	}
	return g.flags(func(v sym) bool { return containsSym(s.vals, v) })
}

func boolTri(b bool) tri {
	if b {
		return yes
	}
	return no
}

// single matches one request value against the operands.
func (g *opGroup) single(x sym) tri {
	if g.all {
		for _, v := range g.vals {
			if v != x {
				return no
			}
		}
		return yes
	}
	return boolTri(g.has(x))
}

func (g *opGroup) has(x sym) bool {
	if g.sorted {
		_, ok := slices.BinarySearch(g.vals, x)
		return ok
	}
	return containsSym(g.vals, x)
}

// multi reports whether the request has any of the operands' values.
func (g *opGroup) multi(xs []sym) tri {
	for _, x := range xs {
		if g.has(x) {
			return yes
		}
	}
	return no
}

// flags matches operands that each say "has" (want true) or "has not".
func (g *opGroup) flags(has func(sym) bool) tri {
	for i, v := range g.vals {
		ok := has(v) == g.want[i]
		if ok != g.all {
			return boolTri(ok)
		}
	}
	return boolTri(g.all)
}

// forSegment evaluates the rule knowing only the segment: no means the rule
// can never match a request to s, so it is not a candidate for s and does
// not count as covering s (POL-2).
func (r *rule) forSegment(s *segment) tri {
	if len(r.conds) == 0 {
		return yes
	}
	res := yes
	if r.or {
		res = no
	}
	for i := range r.conds {
		v := r.conds[i].forSegment(s)
		switch {
		case r.or && v > res, !r.or && v < res:
			res = v
		}
	}
	return res
}

func (c *cond) forSegment(s *segment) tri {
	if len(c.groups) == 0 {
		return boolTri(!c.negated)
	}
	q := request{segID: s.id, segGroup: s.group}
	res := no
	if c.and {
		res = yes
	}
	for i := range c.groups {
		g := &c.groups[i]
		v := maybe
		if g.kind.isSegmentKind() {
			v = g.eval(&q)
		}
		switch {
		case c.and && v < res, !c.and && v > res:
			res = v
		}
	}
	if c.negated {
		res = res.not()
	}
	return res
}
