package domain

import (
	"errors"
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"desktop-10B38-AC.example.com", "*.example.com", "*.", "*", "a..b", ".",
		"_srv._tcp.example.com.", "a*.b", strings.Repeat("a.", 130),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse(%q) error %v does not wrap ErrInvalid", s, err)
			}
			return
		}
		text := p.String()
		if text != strings.ToLower(text) || strings.HasSuffix(text, ".") || len(text) > MaxNameLen {
			t.Fatalf("Parse(%q) = %q: not normalized", s, text)
		}
		// Parsing is idempotent.
		if q, err := Parse(text); err != nil || q != p {
			t.Fatalf("Parse(Parse(%q)) = %q, %v; want %q", s, q, err, p)
		}
		// An FQDN matches itself; a wildcard matches one label under it but
		// not its apex.
		if !p.Wildcard() {
			if !p.Match(s) {
				t.Fatalf("%q does not match its own input %q", p, s)
			}
			return
		}
		if p.Match(p.Suffix()) {
			t.Fatalf("%q matches its apex", p)
		}
		if sub := "x." + p.Suffix(); len(sub) <= MaxNameLen && !p.Match(sub) {
			t.Fatalf("%q does not match %q", p, sub)
		}
	})
}

// FuzzLookup checks the index against a brute-force scan of every pattern
// with Match and MoreSpecific on small sets.
func FuzzLookup(f *testing.F) {
	f.Add("*.example.com,*.hr.example.com,payroll.hr.example.com", "a.b.hr.example.com")
	f.Add("*.example.com,example.com", "example.com")
	f.Add("*.com,*.b.com,a.b.com", "A.B.COM.")
	f.Add("*.example.com", ".example.com")
	f.Fuzz(func(t *testing.T, patterns, name string) {
		var x Index[int]
		var ps []Pattern
		for i, s := range strings.Split(patterns, ",") {
			p, err := Parse(s)
			if err != nil {
				continue
			}
			if x.Add(p, i) == nil {
				ps = append(ps, p)
			}
		}
		var best Pattern
		for _, p := range ps {
			if p.Match(name) && (best.IsZero() || MoreSpecific(p, best)) {
				best = p
			}
		}
		v, got, ok := x.Lookup(name)
		if ok != !best.IsZero() || got != best {
			t.Fatalf("Lookup(%q) over %q = %q, %v; brute force says %q", name, ps, got, ok, best)
		}
		if ok {
			if w, _ := x.Get(got); w != v {
				t.Fatalf("Lookup value %d, Get value %d", v, w)
			}
		}
	})
}
