package domain

import (
	"errors"
	"regexp"
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
		// An FQDN matches itself; a pattern the name with its '*' and '?'
		// filled in; a wildcard matches one label under it but not its apex.
		if p.Glob() {
			filled := strings.NewReplacer("*", "x", "?", "y").Replace(text)
			if ValidName(filled) && !p.Match(filled) {
				t.Fatalf("%q does not match %q", p, filled)
			}
			return
		}
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
	f.Add("desktop-?????-ac.example.com,desktop-*.example.com,*.example.com", "desktop-abcde-ac.example.com")
	f.Add("a*b*c.x.com,*c.x.com,a?c.x.com", "abc.x.com")
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
		n := 0
		for _, p := range ps {
			if p.Match(name) {
				n++
			}
		}
		if all := x.All(nil, name); len(all) != n || (n > 0 && all[0].Pattern != best) {
			t.Fatalf("All(%q) over %q = %+v; brute force says %d, best %q", name, ps, all, n, best)
		}
		if ok {
			if w, _ := x.Get(got); w != v {
				t.Fatalf("Lookup value %d, Get value %d", v, w)
			}
		}
	})
}

// FuzzPatternMatch checks pattern matching against a regexp built from the
// pattern: '?' one character of a label, '*' any run within a label.
func FuzzPatternMatch(f *testing.F) {
	f.Add("desktop-?????-ac.example.com", "desktop-10b38-ac.example.com")
	f.Add("a*b*c.x.com", "aXbYbZc.x.com")
	f.Add("*a*.x.com", "a.x.com")
	f.Add("?*?.x.com", "ab.x.com")
	f.Fuzz(func(t *testing.T, pat, name string) {
		p, err := Parse(pat)
		if err != nil || !p.Glob() {
			return
		}
		var re strings.Builder
		re.WriteString("^")
		for _, c := range p.String() {
			switch c {
			case '*':
				re.WriteString("[^.]*")
			case '?':
				re.WriteString("[^.]")
			default:
				re.WriteString(regexp.QuoteMeta(string(c)))
			}
		}
		re.WriteString("$")
		want := ValidName(name) && regexp.MustCompile(re.String()).MatchString(Normalize(name))
		if got := p.Match(name); got != want {
			t.Fatalf("%q.Match(%q) = %v, regexp %s says %v", p, name, got, re.String(), want)
		}
	})
}
