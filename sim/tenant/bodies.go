package tenant

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// The loader's side of pasted bodies: which sections take which kinds,
// whether the set is complete (IMP-2), and the segments, rules, groups and
// objects they give, each with the field path an error names.

// section is one pasted section of the file.
type section struct {
	name string // "application", "policySet", "bodies"
	p    *pasted
	// takes is the kinds the section accepts; nil means any.
	takes []bodyKind
}

func (l *loader) sections() []section {
	return []section{
		{"application", &l.f.Application, []bodyKind{kindApplication}},
		{"policySet", &l.f.PolicySet, []bodyKind{kindRule, kindPolicySet}},
		{"bodies", &l.f.Bodies, nil},
	}
}

// pastedItems returns every item of kind in file order, with its full
// field path.
func (l *loader) pastedItems(kind bodyKind) []fieldItem {
	var out []fieldItem
	for _, s := range l.sections() {
		for _, b := range s.p.bodies {
			if b.problem != "" || !s.accepts(b.kind) {
				continue
			}
			for i := range b.items {
				if it := &b.items[i]; it.kind == kind {
					out = append(out, fieldItem{field: s.name + it.path, item: it})
				}
			}
		}
	}
	return out
}

type fieldItem struct {
	field string
	item  *pastedItem
}

func (s section) accepts(k bodyKind) bool {
	return s.takes == nil || k == kindUnknown || slices.Contains(s.takes, k)
}

// checkPasted reports bodies that are not recognized, are in the wrong
// section, or are an incomplete set, and turns ignored fields into
// warnings. It runs before anything is converted.
func (l *loader) checkPasted() {
	for _, s := range l.sections() {
		for _, b := range s.p.bodies {
			switch {
			case b.problem != "":
				l.errorf(s.name+b.problemField, "%s", b.problem)
			case !s.accepts(b.kind):
				l.errorf(s.name+b.path, "is %s, which %s does not take; paste it under bodies:, which takes every saved body", describeBody(b), s.name)
			case ownSection(b.kind):
				l.warnf(joinField(s.name, b.path), "is %s, which the lab reads from %s: only (c2clab tenant import puts it there): it is not taken here",
					describeBody(b), kinds[b.kind].section)
			}
		}
		harmless := map[bodyKind][]ignoredNote{}
		var order []bodyKind
		for _, n := range s.p.ignored {
			if n.change {
				l.warnf(joinField(s.name, n.field), "%s", n.message())
				continue
			}
			if harmless[n.kind] == nil {
				order = append(order, n.kind)
			}
			harmless[n.kind] = append(harmless[n.kind], n)
		}
		// What cannot change a decision is one line per kind; the import
		// report says why for each field.
		for _, k := range order {
			ns := harmless[k]
			names := make([]string, len(ns))
			for i, n := range ns {
				names[i] = n.name
			}
			l.notef(joinField(s.name, ns[0].field), "fields of %ss the lab ignores, none of which can change a decision: %s", k, strings.Join(names, ", "))
		}
	}
	l.checkPages()
	l.checkPolicySetAlone()
}

func describeBody(b pastedBody) string {
	if b.page {
		return "a page of " + b.kind.String() + "s"
	}
	return b.kind.a()
}

// pageSet is the pages of one paged listing: one kind, and for the
// listings ZPA pages per IdP, one IdP.
type pageSet struct {
	kind  bodyKind
	idp   string
	pages []pagePlace
}

type pagePlace struct {
	field string
	body  *pastedBody
}

// checkPages: every page of a listing must be given, and the pages must
// hold what totalCount says, else the tenant would be smaller than the
// admin's without a word.
func (l *loader) checkPages() {
	var sets []*pageSet
	for _, s := range l.sections() {
		for i := range s.p.bodies {
			b := &s.p.bodies[i]
			if !b.page || b.problem != "" || !s.accepts(b.kind) {
				continue
			}
			kind := b.kind
			if kind == kindUnknown && len(s.takes) > 0 {
				kind = s.takes[0] // an empty page in application: or policySet:
			}
			idp := pageIdP(b)
			k := slices.IndexFunc(sets, func(ps *pageSet) bool { return ps.kind == kind && ps.idp == idp })
			if k < 0 {
				sets = append(sets, &pageSet{kind: kind, idp: idp})
				k = len(sets) - 1
			}
			sets[k].pages = append(sets[k].pages, pagePlace{s.name + b.path, b})
		}
	}
	for _, ps := range sets {
		l.checkPageSet(ps)
	}
}

// pageIdP is the IdP of a page of SCIM groups or attributes, which ZPA
// lists per IdP.
func pageIdP(b *pastedBody) string {
	if len(b.items) == 0 || (b.kind != kindSCIMGroup && b.kind != kindSCIMAttribute) {
		return ""
	}
	if o := b.items[0].obj; o != nil {
		return o.IdpID
	}
	return ""
}

func (l *loader) checkPageSet(ps *pageSet) {
	what := ps.kind.String() + "s"
	if ps.kind == kindUnknown {
		what = "objects"
	}
	if ps.idp != "" {
		what += " of IdP " + ps.idp
	}
	given, held := len(ps.pages), 0
	for _, pp := range ps.pages {
		held += len(pp.body.items)
	}
	complete := true
	for _, pp := range ps.pages {
		total, ok := count(pp.body.totalPages)
		if pp.body.totalPages != "" && !ok {
			l.errorf(pp.field+".totalPages", "is %q, want a whole number", pp.body.totalPages)
			continue
		}
		if ok && total != given {
			complete = false
			l.errorf(pp.field+".totalPages", "is %d, but %d page(s) of %s are given: give every page of %s (page=1 to %d), or the tenant would lack what the missing pages hold",
				total, given, what, endpoint(ps.kind), total)
			break
		}
	}
	if !complete {
		return
	}
	var want string
	for _, pp := range ps.pages {
		c := pp.body.totalCount
		switch {
		case c == "":
		case want == "":
			want = c
		case c != want:
			l.errorf(pp.field+".totalCount", "is %s, but another page of %s says %s: the pages come from different listings; save them again together", c, what, want)
			return
		}
	}
	if n, ok := count(want); ok && n != held && ps.kind != kindPolicySet {
		l.errorf(ps.pages[0].field+".totalCount", "is %d, but the %d page(s) given hold %d %s: give every page of %s",
			n, given, held, what, endpoint(ps.kind))
	}
}

func endpoint(k bodyKind) string {
	if e := kinds[k].endpoint; e != "" {
		return e
	}
	return "the listing"
}

func count(s string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	return n, err == nil && n >= 0
}

// checkPolicySetAlone refuses the access policy set body when it brings
// no rules and no rule bodies are given: ZPA returns the policy set
// without its rules, so taking it would lose the whole access policy.
func (l *loader) checkPolicySetAlone() {
	if len(l.pastedItems(kindRule)) > 0 {
		return
	}
	for _, fi := range l.pastedItems(kindPolicySet) {
		l.errorf(fi.field, "is the access policy set (%s), which ZPA returns without its rules: "+
			"the rules come from %s (every page); give those (if the tenant has no access rules, leave this body out)",
			kinds[kindPolicySet].endpoint, kinds[kindRule].endpoint)
	}
}

// pastedSegRefs are the pasted segments, as segments() reads them.
func (l *loader) pastedSegRefs() []segRef {
	var out []segRef
	for _, fi := range l.pastedItems(kindApplication) {
		out = append(out, segRef{fi.field, fi.item.seg})
	}
	return out
}

// pastedRuleRefs are the pasted rules, as rules() reads them.
func (l *loader) pastedRuleRefs() []ruleRef {
	var out []ruleRef
	for _, fi := range l.pastedItems(kindRule) {
		out = append(out, ruleRef{fi.field, fi.item.rule})
	}
	return out
}

// pastedGroups are the pasted segment or server groups, after those of
// the strict section (already in have); a group given twice the same way
// (a page and the single body) counts once.
func (l *loader) pastedGroups(kind bodyKind, have []Group) []Group {
	out := have
	for _, fi := range l.pastedItems(kind) {
		g := fi.item.group
		id := strings.TrimSpace(g.ID)
		if id == "" {
			l.errorf(fi.field+".id", "missing; want the %s's id", kind)
			continue
		}
		if k := slices.IndexFunc(out, func(h Group) bool { return h.ID == id }); k >= 0 {
			if out[k].Name != g.Name {
				l.errorf(fi.field+".name", "is %q, but %s %q is also given as %q", g.Name, kind, id, out[k].Name)
			}
			continue
		}
		out = append(out, Group{ID: id, Name: g.Name})
	}
	return out
}

// checkGroupApps: a segment or server group lists its applications; each
// must be among the segments given, else pages of GET /application are
// missing (IMP-2).
func (l *loader) checkGroupApps() {
	for _, kind := range []bodyKind{kindSegmentGroup, kindServerGroup} {
		for _, fi := range l.pastedItems(kind) {
			for k, id := range fi.item.apps {
				if id != "" && !l.segIDs[id] {
					l.errorf(fmt.Sprintf("%s.applications[%d]", fi.field, k),
						"application %q is in this %s, but no segment with that id is given: give every page of %s",
						id, kind, kinds[kindApplication].endpoint)
				}
			}
		}
	}
}

// joinField appends a relative field path ("list[0].x" or "[2].x") to a
// section's name.
func joinField(base, rel string) string {
	switch {
	case rel == "":
		return base
	case strings.HasPrefix(rel, "["), strings.HasPrefix(rel, "."):
		return base + rel
	}
	return base + "." + rel
}
