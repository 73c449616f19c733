// Package domain parses FQDNs, wildcard domains and pattern domains and
// finds the most specific pattern for a name (SEG-3, SEG-7), or all of them
// in order (SEG-6 Multimatch), with one map lookup per label, so the broker
// and the reference agent pick the same application segment.
//
// Matching rules, the lab's documented defaults:
//   - names are case-insensitive and a trailing dot is ignored;
//   - an exact FQDN beats any pattern, a pattern domain beats any wildcard
//     domain (SEG-7: a pattern names hosts at one depth, a wildcard a whole
//     subtree);
//   - a longer wildcard suffix beats a shorter one (*.db.hr.example.com over
//     *.hr.example.com);
//   - a wildcard matches across several labels (*.hr.example.com matches
//     a.b.hr.example.com);
//   - a wildcard does not match its apex (*.example.com does not match
//     example.com);
//   - a pattern domain has '*' or '?' inside its labels
//     (desktop-?????-ac.example.com): '?' is exactly one character and '*'
//     any run of characters, both within one label, never a dot; the last
//     label is literal; it matches names with the same number of labels;
//   - of two patterns, the one with more literal characters is more
//     specific, then the one with fewer '*', then the first in byte order.
//
// The package has no dependencies beyond the standard library so that any
// agent can use it.
package domain

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits on names, as DNS has them.
const (
	MaxNameLen  = 253 // characters, without the trailing dot
	MaxLabelLen = 63
)

// ErrInvalid is wrapped by every Parse error.
var ErrInvalid = errors.New("invalid domain")

// ErrDuplicate is wrapped by Index.Add when the pattern is already present.
var ErrDuplicate = errors.New("duplicate domain")

// accepted says what Parse accepts; every Parse error ends with it.
const accepted = "want an FQDN such as desktop-10B38-AC.example.com, a wildcard such as *.example.com " +
	"or a pattern such as desktop-?????-AC.example.com (labels of 1-63 letters, digits, '-' or '_', at most 253 characters; " +
	"'*' as the whole first label, or '*' and '?' inside labels before the last)"

// Pattern is a parsed FQDN or wildcard domain. The zero value is no pattern.
type Pattern struct {
	// text is lowercase without a trailing dot; a wildcard starts with "*.".
	text string
	// glob: '*' or '?' inside labels (a pattern domain, SEG-7).
	glob bool
}

// Parse parses an FQDN ("desktop-10B38-AC.example.com") or a wildcard
// domain ("*.example.com"). It lowercases and drops one trailing dot.
func Parse(s string) (Pattern, error) {
	name := Normalize(s)
	if name == "" {
		return Pattern{}, fmt.Errorf("parse domain %q: empty; %s: %w", s, accepted, ErrInvalid)
	}
	if len(name) > MaxNameLen {
		return Pattern{}, fmt.Errorf("parse domain %q: %d characters; %s: %w", s, len(name), accepted, ErrInvalid)
	}
	if name == "*" {
		return Pattern{}, fmt.Errorf("parse domain %q: a lone '*' has no suffix; %s: %w", s, accepted, ErrInvalid)
	}
	rest := name
	if strings.HasPrefix(name, "*.") {
		rest = name[2:]
	}
	if strings.ContainsAny(rest, "*?") {
		if reason := checkGlob(name); reason != "" {
			return Pattern{}, fmt.Errorf("parse domain %q: %s; %s: %w", s, reason, accepted, ErrInvalid)
		}
		return Pattern{text: name, glob: true}, nil
	}
	if reason := checkName(rest); reason != "" {
		return Pattern{}, fmt.Errorf("parse domain %q: %s; %s: %w", s, reason, accepted, ErrInvalid)
	}
	return Pattern{text: name}, nil
}

// checkGlob checks a pattern domain: labels as checkName wants them, with
// '*' and '?' allowed in every label but the last.
func checkGlob(name string) string {
	last := strings.LastIndexByte(name, '.')
	if last < 0 {
		return "a pattern needs a literal last label such as com"
	}
	if tld := name[last+1:]; strings.ContainsAny(tld, "*?") {
		return fmt.Sprintf("the last label %q of a pattern must be literal", tld)
	} else if reason := checkName(tld); reason != "" {
		return reason
	}
	labels := strings.Split(name[:last], ".")
	for _, l := range labels {
		plain := strings.NewReplacer("*", "a", "?", "a").Replace(l)
		if reason := checkLabel(plain); reason != "" {
			return strings.Replace(reason, plain, l, 1)
		}
	}
	return ""
}

// MustParse is Parse for constants and tests; it panics on error.
func MustParse(s string) Pattern {
	p, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return p
}

// Normalize lowercases the ASCII letters of name and drops one trailing
// dot. Other characters stay as they are (DNS folds ASCII case only, so the
// Kelvin sign is not a "k"). It does not allocate when name has no
// uppercase ASCII letter.
func Normalize(name string) string {
	name = strings.TrimSuffix(name, ".")
	for i := 0; i < len(name); i++ {
		if c := name[i]; c >= 'A' && c <= 'Z' {
			b := []byte(name)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return name
}

// ValidName reports whether name (after Normalize) is an FQDN Parse accepts
// that is not a wildcard.
func ValidName(name string) bool {
	name = Normalize(name)
	return len(name) <= MaxNameLen && checkName(name) == ""
}

// checkName returns why name is not a dot-separated list of valid labels, or
// "" if it is. It does not allocate on success.
func checkName(name string) string {
	if name == "" {
		return "no labels after \"*.\""
	}
	start := 0
	for i := 0; i <= len(name); i++ {
		if i < len(name) && name[i] != '.' {
			continue
		}
		if reason := checkLabel(name[start:i]); reason != "" {
			return reason
		}
		start = i + 1
	}
	return ""
}

func checkLabel(l string) string {
	if l == "" {
		return "empty label (two dots in a row, or a leading dot)"
	}
	if len(l) > MaxLabelLen {
		return fmt.Sprintf("label %q has %d characters", l, len(l))
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			continue
		}
		if c == '*' {
			return fmt.Sprintf("label %q has '*' that is not the whole first label", l)
		}
		r, _ := utf8.DecodeRuneInString(l[i:])
		return fmt.Sprintf("label %q has %q", l, r)
	}
	return ""
}

// String returns the pattern as written in a segment, lowercase.
func (p Pattern) String() string { return p.text }

// IsZero reports whether p is the zero Pattern.
func (p Pattern) IsZero() bool { return p.text == "" }

// Wildcard reports whether p is a wildcard domain (*.example.com).
func (p Pattern) Wildcard() bool { return !p.glob && strings.HasPrefix(p.text, "*.") }

// Glob reports whether p is a pattern domain (SEG-7).
func (p Pattern) Glob() bool { return p.glob }

// Exact reports whether p is one FQDN.
func (p Pattern) Exact() bool { return !p.IsZero() && !p.glob && !p.Wildcard() }

// Suffix returns the name a wildcard covers the subdomains of
// ("example.com" for "*.example.com"), the literal labels at the end of a
// pattern ("example.com" for "desktop-?????-ac.example.com"), or the FQDN
// itself.
func (p Pattern) Suffix() string {
	switch {
	case p.Wildcard():
		return p.text[2:]
	case p.glob:
		return globSuffix(p.text)
	}
	return p.text
}

// globSuffix is the literal labels after the last label with '*' or '?'.
func globSuffix(text string) string {
	i := strings.LastIndexAny(text, "*?")
	j := strings.IndexByte(text[i:], '.')
	return text[i+j+1:]
}

// labels counts the labels of a name.
func labels(name string) int { return strings.Count(name, ".") + 1 }

// Match reports whether name (any case, optional trailing dot) is covered by
// p. Names Parse would reject never match.
func (p Pattern) Match(name string) bool {
	if p.IsZero() || !ValidName(name) {
		return false
	}
	name = Normalize(name)
	switch {
	case p.glob:
		return globMatch(p.text, name)
	case !p.Wildcard():
		return name == p.text
	}
	s := p.Suffix()
	return len(name) > len(s)+1 && strings.HasSuffix(name, s) && name[len(name)-len(s)-1] == '.'
}

// globMatch matches a pattern domain against a valid, normalized name:
// label by label, '?' one character, '*' any run within the label.
func globMatch(pat, name string) bool {
	for {
		pl, prest, pmore := strings.Cut(pat, ".")
		nl, nrest, nmore := strings.Cut(name, ".")
		if pmore != nmore || !labelMatch(pl, nl) {
			return false
		}
		if !pmore {
			return true
		}
		pat, name = prest, nrest
	}
}

// labelMatch is glob matching of one label, with backtracking over the
// last '*' only (enough for '*' and '?', linear in practice).
func labelMatch(p, s string) bool {
	star, mark := -1, 0
	i, j := 0, 0
	for j < len(s) {
		switch {
		case i < len(p) && (p[i] == '?' || p[i] == s[j]):
			i++
			j++
		case i < len(p) && p[i] == '*':
			star, mark = i, j
			i++
		case star >= 0:
			i, mark = star+1, mark+1
			j = mark
		default:
			return false
		}
	}
	for i < len(p) && p[i] == '*' {
		i++
	}
	return i == len(p)
}

// literals counts a pattern's characters that are not '*' or '?'.
func literals(text string) (lit, stars int) {
	for i := 0; i < len(text); i++ {
		switch text[i] {
		case '*':
			stars++
		case '?':
		default:
			lit++
		}
	}
	return lit, stars
}

// MoreSpecific reports whether a is more specific than b by SEG-3 and
// SEG-7: an exact FQDN beats a pattern domain, which beats a wildcard; a
// longer wildcard suffix beats a shorter one; of two patterns, more literal
// characters, then fewer '*', then byte order. Two patterns that can match
// the same name are never equally specific unless they are equal.
func MoreSpecific(a, b Pattern) bool {
	if ra, rb := a.rank(), b.rank(); ra != rb {
		return ra < rb
	}
	if !a.glob {
		return len(a.Suffix()) > len(b.Suffix())
	}
	la, sa := literals(a.text)
	lb, sb := literals(b.text)
	switch {
	case la != lb:
		return la > lb
	case sa != sb:
		return sa < sb
	}
	return a.text < b.text
}

// rank orders the kinds: exact 0, pattern 1, wildcard 2.
func (p Pattern) rank() int {
	switch {
	case p.glob:
		return 1
	case p.Wildcard():
		return 2
	}
	return 0
}
