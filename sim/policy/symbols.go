package policy

// sym is an interned string: rule evaluation compares integers, not
// strings, and the rule index is a slice, not a map (Decide's hot path).
// noSym is the symbol of a string no rule or segment mentions; it equals no
// operand value.
type sym int32

const noSym sym = -1

// symbols interns the strings that segments and rule operands mention.
// It is written only during New.
type symbols struct {
	ids map[string]sym
}

func (s *symbols) intern(v string) sym {
	if id, ok := s.ids[v]; ok {
		return id
	}
	if s.ids == nil {
		s.ids = make(map[string]sym)
	}
	id := sym(len(s.ids))
	s.ids[v] = id
	return id
}

func (s *symbols) lookup(v string) sym {
	if id, ok := s.ids[v]; ok {
		return id
	}
	return noSym
}

func (s *symbols) len() int { return len(s.ids) }

func containsSym(xs []sym, x sym) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
