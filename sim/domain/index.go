package domain

import (
	"fmt"
	"slices"
)

// Index maps patterns to values and finds the most specific pattern for a
// name in O(labels): one lookup in a map of exact names, then one lookup per
// suffix in a map of pattern domains by their literal suffix, then one per
// suffix in a map of wildcard suffixes, longest suffix first. The zero value
// is an empty index. Add must not run concurrently with anything else; once
// built, Lookup, All and Get are safe for concurrent use.
type Index[V any] struct {
	exact map[string]entry[V]   // key: the FQDN
	wild  map[string]entry[V]   // key: the suffix after "*."
	globs map[string][]entry[V] // key: the pattern's literal suffix; most specific first
	nglob int
}

type entry[V any] struct {
	p Pattern
	v V
}

// Match is one pattern that matches a name, with its value.
type Match[V any] struct {
	Pattern Pattern
	Value   V
}

// Add adds p with value v. If p is already present the first value stays and
// Add returns an error wrapping ErrDuplicate, so that config validation can
// name both owners (see Get).
func (x *Index[V]) Add(p Pattern, v V) error {
	if p.IsZero() {
		return fmt.Errorf("add domain: zero pattern: %w", ErrInvalid)
	}
	if p.glob {
		return x.addGlob(p, v)
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

func (x *Index[V]) addGlob(p Pattern, v V) error {
	if x.globs == nil {
		x.globs = make(map[string][]entry[V])
	}
	key := p.Suffix()
	l := x.globs[key]
	for _, e := range l {
		if e.p == p {
			return fmt.Errorf("add domain %q: %w", p.text, ErrDuplicate)
		}
	}
	i, _ := slices.BinarySearchFunc(l, p, func(e entry[V], p Pattern) int {
		if MoreSpecific(e.p, p) {
			return -1
		}
		return 1
	})
	x.globs[key] = slices.Insert(l, i, entry[V]{p, v})
	x.nglob++
	return nil
}

// Get returns the value stored for exactly p.
func (x *Index[V]) Get(p Pattern) (V, bool) {
	if p.glob {
		for _, e := range x.globs[p.Suffix()] {
			if e.p == p {
				return e.v, true
			}
		}
		var zero V
		return zero, false
	}
	m := x.exact
	if p.Wildcard() {
		m = x.wild
	}
	e, ok := m[p.Suffix()]
	return e.v, ok
}

// Len returns the number of patterns.
func (x *Index[V]) Len() int { return len(x.exact) + len(x.wild) + x.nglob }

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
	if e, ok := x.bestGlob(name); ok {
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

// bestGlob returns the most specific pattern domain matching the valid,
// normalized name.
func (x *Index[V]) bestGlob(name string) (best entry[V], ok bool) {
	if x.nglob == 0 {
		return best, false
	}
	x.eachGlob(name, func(e entry[V]) bool {
		if !ok || MoreSpecific(e.p, best.p) {
			best, ok = e, true
		}
		return false // each bucket is sorted: its first match is its best
	})
	return best, ok
}

// eachGlob calls f with every pattern domain matching name, each bucket
// most specific first; f returns whether to go on in the bucket.
func (x *Index[V]) eachGlob(name string, f func(entry[V]) bool) {
	for i := 0; i < len(name); i++ {
		if name[i] != '.' {
			continue
		}
		for _, e := range x.globs[name[i+1:]] {
			if globMatch(e.p.text, name) && !f(e) {
				break
			}
		}
	}
}

// All appends to dst every pattern matching name, most specific first
// (MoreSpecific), for Multimatch (SEG-6).
func (x *Index[V]) All(dst []Match[V], name string) []Match[V] {
	name = Normalize(name)
	if len(name) > MaxNameLen || checkName(name) != "" {
		return dst
	}
	if e, ok := x.exact[name]; ok {
		dst = append(dst, Match[V]{e.p, e.v})
	}
	start := len(dst)
	x.eachGlob(name, func(e entry[V]) bool {
		dst = append(dst, Match[V]{e.p, e.v})
		return true
	})
	slices.SortFunc(dst[start:], func(a, b Match[V]) int {
		if MoreSpecific(a.Pattern, b.Pattern) {
			return -1
		}
		return 1
	})
	for i := 0; i < len(name); i++ {
		if name[i] == '.' {
			if e, ok := x.wild[name[i+1:]]; ok {
				dst = append(dst, Match[V]{e.p, e.v})
			}
		}
	}
	return dst
}
