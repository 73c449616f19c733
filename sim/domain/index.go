package domain

import "fmt"

// Index maps patterns to values and finds the most specific pattern for a
// name in O(labels): one lookup in a map of exact names, then one lookup per
// suffix in a map of wildcard suffixes, longest suffix first. The zero value
// is an empty index. Add must not run concurrently with anything else; once
// built, Lookup and Get are safe for concurrent use.
type Index[V any] struct {
	exact map[string]entry[V] // key: the FQDN
	wild  map[string]entry[V] // key: the suffix after "*."
}

type entry[V any] struct {
	p Pattern
	v V
}

// Add adds p with value v. If p is already present the first value stays and
// Add returns an error wrapping ErrDuplicate, so that config validation can
// name both owners (see Get).
func (x *Index[V]) Add(p Pattern, v V) error {
	if p.IsZero() {
		return fmt.Errorf("add domain: zero pattern: %w", ErrInvalid)
	}
	m := &x.exact
	if p.Wildcard() {
		m = &x.wild
	}
	if *m == nil {
		*m = make(map[string]entry[V])
	}
	key := p.Suffix()
	if _, dup := (*m)[key]; dup {
		return fmt.Errorf("add domain %q: %w", p.text, ErrDuplicate)
	}
	(*m)[key] = entry[V]{p, v}
	return nil
}

// Get returns the value stored for exactly p.
func (x *Index[V]) Get(p Pattern) (V, bool) {
	m := x.exact
	if p.Wildcard() {
		m = x.wild
	}
	e, ok := m[p.Suffix()]
	return e.v, ok
}

// Len returns the number of patterns.
func (x *Index[V]) Len() int { return len(x.exact) + len(x.wild) }

// Lookup returns the value of the most specific pattern matching name (any
// case, optional trailing dot) and that pattern. Names Parse would reject
// match nothing. Lookup does not allocate when name is lowercase.
func (x *Index[V]) Lookup(name string) (v V, matched Pattern, ok bool) {
	name = Normalize(name)
	if len(name) > MaxNameLen || checkName(name) != "" {
		return v, Pattern{}, false
	}
	if e, ok := x.exact[name]; ok {
		return e.v, e.p, true
	}
	if len(x.wild) == 0 {
		return v, Pattern{}, false
	}
	// Suffixes from longest to shortest: the first hit is the most specific.
	// A valid name has no leading dot, so every suffix leaves a non-empty
	// label for the '*' (the apex never matches its own wildcard).
	for i := 0; i < len(name); i++ {
		if name[i] != '.' {
			continue
		}
		if e, ok := x.wild[name[i+1:]]; ok {
			return e.v, e.p, true
		}
	}
	return v, Pattern{}, false
}
