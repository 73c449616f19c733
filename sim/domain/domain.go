// Package domain parses FQDNs and wildcard domains and finds the most
// specific pattern for a name (SEG-3) with one map lookup per label, so the
// broker and the reference agent pick the same application segment.
//
// Matching rules, the lab's documented defaults:
//   - names are case-insensitive and a trailing dot is ignored;
//   - an exact FQDN beats any wildcard;
//   - a longer wildcard suffix beats a shorter one (*.db.hr.example.com over
//     *.hr.example.com);
//   - a wildcard matches across several labels (*.hr.example.com matches
//     a.b.hr.example.com);
//   - a wildcard does not match its apex (*.example.com does not match
//     example.com).
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
const accepted = "want an FQDN such as desktop-10B38-AC.example.com or a wildcard such as *.example.com " +
	"(labels of 1-63 letters, digits, '-' or '_', at most 253 characters, '*' only as the whole first label)"

// Pattern is a parsed FQDN or wildcard domain. The zero value is no pattern.
type Pattern struct {
	// text is lowercase without a trailing dot; a wildcard starts with "*.".
	text string
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
	if reason := checkName(rest); reason != "" {
		return Pattern{}, fmt.Errorf("parse domain %q: %s; %s: %w", s, reason, accepted, ErrInvalid)
	}
	return Pattern{text: name}, nil
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

// Wildcard reports whether p is a wildcard domain.
func (p Pattern) Wildcard() bool { return strings.HasPrefix(p.text, "*.") }

// Suffix returns the name a wildcard covers the subdomains of
// ("example.com" for "*.example.com"), or the FQDN itself.
func (p Pattern) Suffix() string {
	if p.Wildcard() {
		return p.text[2:]
	}
	return p.text
}

// Match reports whether name (any case, optional trailing dot) is covered by
// p. Names Parse would reject never match.
func (p Pattern) Match(name string) bool {
	if p.IsZero() || !ValidName(name) {
		return false
	}
	name = Normalize(name)
	if !p.Wildcard() {
		return name == p.text
	}
	s := p.Suffix()
	return len(name) > len(s)+1 && strings.HasSuffix(name, s) && name[len(name)-len(s)-1] == '.'
}

// MoreSpecific reports whether a is more specific than b by SEG-3: an exact
// FQDN beats a wildcard, and a longer wildcard suffix beats a shorter one.
// Two patterns that can match the same name are never equally specific
// unless they are equal.
func MoreSpecific(a, b Pattern) bool {
	if a.Wildcard() != b.Wildcard() {
		return !a.Wildcard()
	}
	return len(a.Suffix()) > len(b.Suffix())
}
