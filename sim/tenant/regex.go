package tenant

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
)

// regexes checks clientHostnameValidation. ZPA accepts any list here, so
// nothing is an error: the list's problems show at registration (HV-1) and
// are warnings now.
func (l *loader) regexes() []string {
	list := l.f.ClientHostnameValidation
	switch {
	case len(list) == 0:
		l.warnf("clientHostnameValidation", "no client hostname validation regex: every registration fails with FQDN_NO_ENTRIES and no device is reachable client-to-client (HV-1); add one such as '.*\\.example\\.com'")
	case len(list) > 1:
		l.warnf("clientHostnameValidation", "%d regexes: ZPA accepts exactly one, every registration fails with FQDN_TOO_MANY_REGEX (HV-1); merge them into one with |", len(list))
	}
	// Regexes are shown in single quotes, as written in YAML: %q would
	// double every backslash and make them harder to compare with the file.
	for i, r := range list {
		if _, err := compileAnchored(r); err != nil {
			l.warnf(fmt.Sprintf("clientHostnameValidation[%d]", i), "regex '%s' does not compile (%v): every registration fails with FQDN_BAD_REGEX (HV-1)", r, err)
		}
	}
	return append([]string(nil), list...)
}

// compileAnchored compiles r as the lab applies it: matching the whole FQDN,
// case-sensitively (HV-2).
func compileAnchored(r string) (*regexp.Regexp, error) {
	if _, err := syntax.Parse(r, syntax.Perl); err != nil {
		return nil, err // the error of r itself, not of the anchored form
	}
	return regexp.Compile(`^(?:` + r + `)$`)
}

// theRegex returns the tenant's one compiled regex, or nil when there is not
// exactly one that compiles (then nothing can be enrolled and SEG-1 checks
// would only repeat the HV-1 warning).
func (l *loader) theRegex() (*regexp.Regexp, string) {
	list := l.f.ClientHostnameValidation
	if len(list) != 1 {
		return nil, ""
	}
	re, err := compileAnchored(list[0])
	if err != nil {
		return nil, ""
	}
	return re, list[0]
}

// requiredSuffix returns a string that every match of the whole-FQDN regex
// r ends with: the literals at the end of its top-level concatenation,
// lower-cased. It returns "" when there are none. That is enough to decide
// soundly that a wildcard domain cannot match (SEG-1): if neither the
// wildcard's ".suffix" nor this string ends with the other, no name under
// the wildcard can match r.
func requiredSuffix(r string) string {
	re, err := syntax.Parse(r, syntax.Perl)
	if err != nil {
		return ""
	}
	re = re.Simplify()
	var subs []*syntax.Regexp
	switch re.Op {
	case syntax.OpConcat:
		subs = re.Sub
	case syntax.OpLiteral:
		subs = []*syntax.Regexp{re}
	}
	var b []string
	for i := len(subs) - 1; i >= 0; i-- {
		s := subs[i]
		if s.Op == syntax.OpEndText || s.Op == syntax.OpEndLine {
			continue // an explicit $ changes nothing under whole-FQDN matching
		}
		if s.Op != syntax.OpLiteral {
			break
		}
		b = append([]string{string(s.Rune)}, b...)
	}
	return strings.ToLower(strings.Join(b, ""))
}

// wildcardCannotMatch reports whether no name under "*.suffix" can match re
// whose required suffix is req (see requiredSuffix). Case is ignored, so
// the answer is sound whatever case a device reports.
func wildcardCannotMatch(suffix, req string) bool {
	if req == "" {
		return false
	}
	s := "." + strings.ToLower(suffix)
	return !strings.HasSuffix(s, req) && !strings.HasSuffix(req, s)
}
