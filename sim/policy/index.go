package policy

import "slices"

// Decide must not evaluate 2,000 rules per request (DESIGN: p99 <= 20 µs at
// ZPA's limits). New therefore sorts every rule into lists that hold only
// rules that can match: per segment, the rules with segment criteria
// (APP, APP_GROUP) that can match it; for the rest, lists keyed by an identity
// criterion every match needs (user, group, client type, platform). Decide
// merges the few lists that apply by rank, so it sees the candidates in rule
// order and the first match still decides (POL-1).

// maxLists bounds the lists Decide merges; a user in more groups than fit
// makes Decide fall back to every rule without segment criteria.
const maxLists = 16

// ruleIndex holds the ranks (indexes into Engine.rules, ascending) of the
// rules without segment criteria.
type ruleIndex struct {
	always []int32 // no identity criterion that every match needs
	// byKey[v] lists the rules a request can match only if its user, one
	// of its groups, its client type or its platform is symbol v. Kinds
	// share the symbol space; a collision only adds candidates. A user
	// whose groups are unknown may make any rule filed by group undecided,
	// so candidates then takes all.
	byKey [][]int32
	all   []int32
}

// idRank ranks the identity kinds a rule can be indexed by, by how few
// requests they let through (1 is best); 0 means the kind cannot be indexed.
func (k objKind) idRank() int {
	switch k {
	case kindUser:
		return 1
	case kindSCIMGroup:
		return 2
	case kindClientType:
		return 3
	case kindPlatform:
		return 4
	}
	return 0
}

// indexRules fills segRules, global and each segment's covered flag.
func (e *Engine) indexRules() {
	e.segRules = make([][]int32, len(e.segs))
	byID := make(map[sym][]int, len(e.segs))
	byGroup := make(map[sym][]int)
	for i := range e.segs {
		byID[e.segs[i].id] = append(byID[e.segs[i].id], i)
		byGroup[e.segs[i].group] = append(byGroup[e.segs[i].group], i)
	}
	e.global.byKey = make([][]int32, e.syms.len())
	seen := make([]int, len(e.segs)) // rank+1 of the last rule that visited each segment
	for rank := range e.rules {
		r := &e.rules[rank]
		r.segmentCriteria = r.hasSegmentKind()
		if !r.segmentCriteria {
			e.global.add(int32(rank), r)
			continue
		}
		visit := func(i int) {
			if seen[i] == rank+1 {
				return
			}
			seen[i] = rank + 1
			if r.forSegment(&e.segs[i]) != no {
				e.segRules[i] = append(e.segRules[i], int32(rank))
			}
		}
		if segs, scoped := r.segmentScope(byID, byGroup); scoped {
			for _, i := range segs {
				visit(i)
			}
			continue
		}
		for i := range e.segs {
			visit(i)
		}
	}
	for i := range e.segs {
		e.segs[i].covered = len(e.segRules[i]) > 0 || len(e.global.all) > 0
	}
	for i := range e.rules {
		e.rules[i].keyLast()
	}
}

// segmentScope returns a superset of the segments the rule can match, from
// its conditions that bound the segment, or scoped=false if it may match
// any segment.
func (r *rule) segmentScope(byID, byGroup map[sym][]int) (segs []int, scoped bool) {
	for i := range r.conds {
		these, ok := r.conds[i].segmentVals(byID, byGroup)
		switch {
		case !ok && r.or:
			return nil, false // this condition alone can match anywhere
		case !ok:
			continue
		case !r.or:
			return these, true // AND: this condition alone bounds the rule
		}
		segs = append(segs, these...)
	}
	return segs, r.or && len(r.conds) > 0
}

// segmentVals returns the segments outside of which the condition is
// certainly false: an AND condition is bounded by any of its APP or
// APP_GROUP groups, an OR condition only if all its groups are APP or
// APP_GROUP. A negated condition is never bounded.
func (c *cond) segmentVals(byID, byGroup map[sym][]int) ([]int, bool) {
	if c.negated || len(c.groups) == 0 {
		return nil, false
	}
	var segs []int
	bounded := false
	for i := range c.groups {
		g := &c.groups[i]
		if !g.kind.isSegmentKind() {
			if !c.and {
				return nil, false
			}
			continue
		}
		m := byID
		if g.kind == kindAppGroup {
			m = byGroup
		}
		var these []int
		for _, v := range g.vals {
			these = append(these, m[v]...)
		}
		if c.and {
			return these, true
		}
		segs, bounded = append(segs, these...), true
	}
	return segs, bounded
}

// identityVals returns identity values of which a request must have one
// for the condition to be anything but false, and the rank of their kind:
// an AND condition's most selective indexable group, or all the groups of
// an OR condition if every one is indexable.
func (c *cond) identityVals() (keys []sym, rank int, ok bool) {
	if c.negated || len(c.groups) == 0 {
		return nil, 0, false
	}
	for i := range c.groups {
		g := &c.groups[i]
		r := g.kind.idRank()
		switch {
		case !g.indexable() && c.and:
			continue
		case !g.indexable():
			return nil, 0, false
		case c.and && (!ok || r < rank):
			keys, rank, ok = g.vals, r, true
		case !c.and:
			keys, rank, ok = append(slices.Clip(keys), g.vals...), max(rank, r), true
		}
	}
	return keys, rank, ok
}

// keyLast moves, in an AND rule, the condition the rule index files the
// rule by to the end. A candidate found through that key most likely
// satisfies it, so the other conditions decide sooner: at ZPA's limits,
// with every rule pairing a SCIM group with a posture (the benchmark's
// "unscoped" tenant), this took Decide's median from about 4.7 to 2.7 µs.
// The order of ANDed conditions changes neither the result nor the trace
// (TestRuleIndexMatchesScan compares with rules compiled alone). Call it
// after the rule is indexed.
func (r *rule) keyLast() {
	if r.or {
		return
	}
	key, best := -1, 0
	for i := range r.conds {
		c := &r.conds[i]
		if r.segmentCriteria {
			if _, ok := c.segmentVals(nil, nil); ok {
				key = i // segmentScope's choice: the first that bounds
				break
			}
			continue
		}
		if _, rank, ok := c.identityVals(); ok && (key < 0 || rank < best) {
			key, best = i, rank // identityScope's choice
		}
	}
	if key >= 0 {
		c := r.conds[key]
		copy(r.conds[key:], r.conds[key+1:])
		r.conds[len(r.conds)-1] = c
	}
}

// add files a rule without segment criteria.
func (x *ruleIndex) add(rank int32, r *rule) {
	x.all = append(x.all, rank)
	keys, scoped := r.identityScope()
	if !scoped {
		x.always = append(x.always, rank)
		return
	}
	for _, k := range keys {
		if l := x.byKey[k]; len(l) == 0 || l[len(l)-1] != rank {
			x.byKey[k] = append(l, rank)
		}
	}
}

// key returns the rules filed under v.
func (x *ruleIndex) key(v sym) []int32 {
	if v < 0 || int(v) >= len(x.byKey) {
		return nil
	}
	return x.byKey[v]
}

// identityScope returns identity values of which a request must have at
// least one for the rule to match, or scoped=false.
func (r *rule) identityScope() (keys []sym, scoped bool) {
	var best []sym
	bestRank := 0
	for i := range r.conds {
		vals, rank, ok := r.conds[i].identityVals()
		switch {
		case !ok && r.or:
			return nil, false // this condition alone can match anyone
		case !ok:
			continue
		case r.or:
			keys = append(keys, vals...)
		case best == nil || rank < bestRank:
			best, bestRank = vals, rank
		}
	}
	if r.or {
		return keys, len(r.conds) > 0
	}
	if best == nil {
		return nil, false
	}
	return best, true
}

// indexable: a match needs the request to have one of the group's values.
// "Not this platform" (RHS false) admits every other platform, so it is not.
func (g *opGroup) indexable() bool {
	if g.kind.idRank() == 0 {
		return false
	}
	for _, w := range g.want {
		if !w {
			return false
		}
	}
	return true
}

// candidates merges rank lists into ascending order without duplicates.
type candidates struct {
	lists [maxLists][]int32
	n     int
	last  int32
}

// candidates returns the rules that can match a request to segment si.
func (e *Engine) candidates(si int, q *request) candidates {
	c := candidates{last: -1}
	c.add(e.segRules[si])
	x := &e.global
	c.add(x.always)
	c.add(x.key(q.user))
	c.add(x.key(q.clientType))
	c.add(x.key(q.platform))
	groups := q.set(kindSCIMGroup)
	if !groups.known || c.n+len(groups.vals) > maxLists {
		return e.everyCandidate(si)
	}
	for _, g := range groups.vals {
		c.add(x.key(g))
	}
	return c
}

// everyCandidate is every rule that may apply to segment si, none left
// out by the request's keys: what candidates falls back to, and what a
// trace of the rules that did not match walks (Request.TraceMisses).
func (e *Engine) everyCandidate(si int) candidates {
	c := candidates{last: -1}
	c.add(e.segRules[si])
	c.add(e.global.all)
	return c
}

func (c *candidates) add(l []int32) {
	if len(l) > 0 {
		c.lists[c.n] = l
		c.n++
	}
}

// next returns the lowest rank not yet returned.
func (c *candidates) next() (int32, bool) {
	for {
		best := -1
		for i := 0; i < c.n; i++ {
			if len(c.lists[i]) > 0 && (best < 0 || c.lists[i][0] < c.lists[best][0]) {
				best = i
			}
		}
		if best < 0 {
			return 0, false
		}
		rank := c.lists[best][0]
		c.lists[best] = c.lists[best][1:]
		if rank != c.last {
			c.last = rank
			return rank, true
		}
	}
}

// hasSegmentKind: some condition has APP or APP_GROUP operands.
func (r *rule) hasSegmentKind() bool {
	for i := range r.conds {
		for j := range r.conds[i].groups {
			if r.conds[i].groups[j].kind.isSegmentKind() {
				return true
			}
		}
	}
	return false
}
