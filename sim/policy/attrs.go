package policy

import (
	"maps"
	"slices"
	"strings"
)

func (a Attr) clone() Attr { a.Values = slices.Clone(a.Values); return a }

func (a Attrs) clone() Attrs {
	if a.Values != nil {
		m := make(map[string][]string, len(a.Values))
		for k, v := range a.Values {
			m[k] = slices.Clone(v)
		}
		a.Values = m
	}
	return a
}

func (d DeviceAttrs) clone() DeviceAttrs {
	return DeviceAttrs{Posture: d.Posture.clone(), TrustedNetworks: d.TrustedNetworks.clone(),
		Country: d.Country.clone(), MachineGroup: d.MachineGroup.clone()}
}

// String is the attribute as a trace shows it: "unknown", "none" or the
// values.
func (a Attr) String() string {
	switch {
	case !a.Known:
		return "unknown"
	case len(a.Values) == 0:
		return "none"
	}
	return strings.Join(a.Values, ", ")
}

// AttrOf is the Attr of a list as profiles and the wire carry it: nil is
// unknown, empty (not nil) is none.
func AttrOf(vs []string) Attr {
	if vs == nil {
		return Attr{}
	}
	return Known(slices.Clone(vs)...)
}

// AttrOfPtr is AttrOf for an optional single value: nil is unknown, "" is
// none.
func AttrOfPtr(v *string) Attr {
	switch {
	case v == nil:
		return Attr{}
	case *v == "":
		return Known()
	}
	return Known(*v)
}

// AttrOfList is AttrOf for an optional list field: nil is unknown.
func AttrOfList(vs *[]string) Attr {
	if vs == nil {
		return Attr{}
	}
	return Known(slices.Clone(*vs)...)
}

// compileObjects builds dir: every spelling of an Object maps to its
// canonical key. IDs win over names and aliases; a name two objects of a
// type share means neither (Lint warns), so it is compared as written.
func (e *Engine) compileObjects() {
	e.dir = make(map[string]string)
	byName := map[string]string{}
	ambiguous := map[string]string{} // key -> `TYPE "name"`
	for _, o := range e.cfg.Objects {
		k := kindOf(o.Type)
		if o.ID == "" || exactKind(k) {
			continue
		}
		canonical := string(appendKey(nil, k, "#"+o.ID))
		e.dir[string(appendKey(nil, k, o.ID))] = canonical
		for _, n := range append([]string{o.Name}, o.Aliases...) {
			if n == "" {
				continue
			}
			key := string(appendKey(nil, k, n))
			if prev, seen := byName[key]; seen && prev != canonical {
				ambiguous[key] = strings.ToUpper(o.Type) + " " + quote(n)
			}
			byName[key] = canonical
		}
	}
	for _, key := range slices.Sorted(maps.Keys(byName)) {
		if _, isID := e.dir[key]; isID || ambiguous[key] != "" {
			continue
		}
		e.dir[key] = byName[key]
	}
	for _, key := range slices.Sorted(maps.Keys(ambiguous)) {
		e.ambiguous = append(e.ambiguous, ambiguous[key])
	}
}

// compileUsers resolves each listed user's identity attributes to the
// symbols rules mention; values no rule mentions cannot match and are
// dropped, but the attribute stays known.
func (e *Engine) compileUsers() {
	e.users = make(map[string]*[numKinds]attrSet, len(e.cfg.Users))
	for i := range e.cfg.Users {
		u := &e.cfg.Users[i]
		var sets [numKinds]attrSet
		sets[kindIDP] = e.attrSyms(kindIDP, u.IdP)
		sets[kindSCIMGroup] = e.attrSyms(kindSCIMGroup, u.Groups)
		sets[kindRisk] = e.attrSyms(kindRisk, u.Risk)
		sets[kindSCIM] = e.pairSyms(kindSCIM, u.SCIM)
		sets[kindSAML] = e.pairSyms(kindSAML, u.SAML)
		e.users[u.Name] = &sets
	}
}

func (e *Engine) attrSyms(k objKind, a Attr) attrSet {
	s := attrSet{known: a.Known}
	for _, v := range a.Values {
		if y := e.syms.lookup(e.canon(k, v)); y != noSym && !containsSym(s.vals, y) {
			s.vals = append(s.vals, y)
		}
	}
	return s
}

func (e *Engine) pairSyms(k objKind, a Attrs) attrSet {
	s := attrSet{known: a.Known}
	for _, name := range slices.Sorted(maps.Keys(a.Values)) {
		for _, v := range a.Values[name] {
			if y := e.syms.lookup(e.pairKey(k, name, v)); y != noSym && !containsSym(s.vals, y) {
				s.vals = append(s.vals, y)
			}
		}
	}
	return s
}

// deviceSyms resolves a device attribute per request without allocating
// when no value is one a rule mentions.
func (e *Engine) deviceSyms(buf []byte, k objKind, a Attr) attrSet {
	s := attrSet{known: a.Known}
	for _, v := range a.Values {
		if y := e.lookupKey(buf, k, v); y != noSym && !containsSym(s.vals, y) {
			s.vals = append(s.vals, y)
		}
	}
	return s
}
