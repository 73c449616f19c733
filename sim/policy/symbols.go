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

// Keys. A value of kind k is interned under a key: segment IDs, segment
// group IDs and user names as written (they are compared exactly, as
// before); every other kind as its kind byte, a NUL and the value, folded
// to lower case when the kind folds. A value that names an Object (its ID,
// Name or an alias) is replaced by the Object's canonical key, so an
// operand carrying an ID and a users: entry naming the object meet.

// appendKey appends the uncanonicalized key of v to b.
func appendKey(b []byte, k objKind, v string) []byte {
	b = append(b, byte(k), 0)
	if !kindInfos[k].fold {
		return append(b, v...)
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}

func exactKind(k objKind) bool { return k == kindApp || k == kindAppGroup || k == kindUser }

// canon returns the key v of kind k is interned under (New only: it
// allocates).
func (e *Engine) canon(k objKind, v string) string {
	if exactKind(k) {
		return v
	}
	b := appendKey(make([]byte, 0, len(v)+2), k, v)
	if c, ok := e.dir[string(b)]; ok {
		return c
	}
	return string(b)
}

// pairKey is the key of attribute attr having value v (SCIM, SAML).
func (e *Engine) pairKey(k objKind, attr, v string) string {
	return e.canon(k, attr) + "\x01" + foldIf(k, v)
}

func foldIf(k objKind, v string) string {
	return string(appendKey(nil, k, v)[2:])
}

// lookupKey returns the symbol of v of kind k, or noSym; buf is scratch
// space so that the common case does not allocate.
func (e *Engine) lookupKey(buf []byte, k objKind, v string) sym {
	if exactKind(k) {
		return e.syms.lookup(v)
	}
	b := appendKey(buf[:0], k, v)
	if c, ok := e.dir[string(b)]; ok {
		return e.syms.lookup(c)
	}
	return e.syms.lookup(string(b))
}
