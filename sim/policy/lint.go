package policy

import (
	"fmt"
	"regexp/syntax"
	"strings"

	"github.com/c2clab/c2clab/sim/domain"
)

// Warning is configuration that New accepts but that is probably not what
// the admin meant. Segment, Rule and Field say where, as in ConfigError, so
// that sim/tenant can point at the file's line.
type Warning struct {
	Segment int // index into Config.Segments, or -1
	Rule    int // index into Config.Rules, or -1
	// Field is within the segment or rule ("domainNames[1]",
	// "conditions[0].operands[2].objectType"); when Segment and Rule are
	// both -1 it is a tenant field: "clientHostnameValidation" or
	// "clientHostnameValidation[i]" (an index into Config.HostnameRegexes).
	Field string
	Msg   string
	// NoDecision: what the warning is about cannot change any decision
	// (a domain listed twice in one segment counts once). Every other
	// warning names something that decides differently from what the admin
	// probably meant, or that the lab cannot decide (IMP-2, issue 12 item 7).
	NoDecision bool
}

func (w Warning) String() string { return place(w.Segment, w.Rule, w.Field) + ": " + w.Msg }

// regexField is how Warning.Field names Config.HostnameRegexes: as the
// tenant file does, since ZPA's API has no single name for it.
const regexField = "clientHostnameValidation"

// lint collects the warnings: configuration that is usable but probably
// not what the admin meant, in the order of Config's fields.
func (e *Engine) lint() {
	e.lintHostname()
	e.lintSegments()
	e.lintRules()
}

func (e *Engine) warn(seg, rule int, field, format string, args ...any) {
	e.warnings = append(e.warnings, Warning{Segment: seg, Rule: rule, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// lintHostname is HV-1: ZPA accepts any list of regexes, and every
// registration fails unless there is exactly one that compiles. Regexes are
// shown in single quotes, as written in YAML: %q would double every
// backslash and make them harder to compare with the file.
func (e *Engine) lintHostname() {
	list := e.cfg.HostnameRegexes
	used := 0
	for _, r := range list {
		if r != "" {
			used++
		}
	}
	switch {
	case used == 0:
		e.warn(-1, -1, regexField, "no client hostname validation regex: every registration fails with FQDN_NO_ENTRIES and no device is reachable client-to-client (HV-1); add one such as '.*\\.example\\.com'")
	case used > 1:
		e.warn(-1, -1, regexField, "%d regexes: ZPA accepts exactly one, every registration fails with FQDN_TOO_MANY_REGEX (HV-1); merge them into one with |", used)
	}
	for i, r := range list {
		field := fmt.Sprintf("%s[%d]", regexField, i)
		if r == "" {
			e.warn(-1, -1, field, "is empty, so it is ignored; want a regex such as '.*\\.example\\.com'")
			continue
		}
		if _, err := compileAnchored(r); err != nil {
			consequence := ""
			if used == 1 {
				consequence = ": every registration fails with FQDN_BAD_REGEX (HV-1)"
			}
			e.warn(-1, -1, field, "regex '%s' does not compile (%v)%s", r, err, consequence)
		}
	}
}

// lintSegments warns about a domain listed twice in one segment (two
// segments are an error, see compileSegments) and applies SEG-1: a
// client-to-client segment domain that the hostname regex cannot match
// reaches no device. An exact FQDN is checked with the regex itself; a
// wildcard only when every name under it ends in a way the regex excludes
// (see requiredSuffix), since otherwise the devices matching both are
// reachable, as ZPA documents.
func (e *Engine) lintSegments() {
	re := e.hostname.re // nil: nothing is enrolled, and lintHostname has said why
	req := ""
	if re != nil {
		req = requiredSuffix(e.hostname.text)
	}
	for i := range e.segs {
		s := e.segs[i].s
		c2c := re != nil && len(s.ServerGroups) == 0
		var seen map[domain.Pattern]int // allocated only for segments with several domains
		if len(s.Domains) > 1 {
			seen = make(map[domain.Pattern]int, len(s.Domains))
		}
		for k, d := range s.Domains {
			field := fmt.Sprintf("domainNames[%d]", k)
			p, err := domain.Parse(d)
			if err != nil {
				continue // an error already
			}
			if first, dup := seen[p]; dup {
				e.warn(i, -1, field, "%q is listed twice in this segment (domainNames[%d]); it counts once", d, first)
				e.warnings[len(e.warnings)-1].NoDecision = true
				continue
			} else if seen != nil {
				seen[p] = k
			}
			switch {
			case !c2c:
			case (p.Wildcard() || p.Glob()) && wildcardCannotMatch(p.Suffix(), req):
				e.warn(i, -1, field, "no name under %q can match the client hostname validation regex '%s': no device is reachable through this segment (SEG-1)", d, e.hostname.text)
			case p.Exact() && !re.MatchString(strings.TrimSuffix(d, ".")):
				e.warn(i, -1, field, "%q does not match the client hostname validation regex '%s': no device with this FQDN can be enrolled, so it is not reachable client-to-client (SEG-1)", d, e.hostname.text)
			}
		}
	}
}

// lintRules names operands that refer to no segment or segment group,
// operand types whose criteria the lab can never know (a rule using one is
// undecided whenever it is reached, POL-4), and names two objects share.
func (e *Engine) lintRules() {
	ids := make(map[string]bool, len(e.segs))
	groups := make(map[string]bool)
	for i := range e.segs {
		ids[e.segs[i].s.ID] = true
		groups[e.segs[i].s.GroupID] = true
	}
	for _, n := range e.ambiguous {
		e.warn(-1, -1, "objects", "%s names two objects; users and devices that use this name match neither, write the id instead", n)
	}
	for i := range e.cfg.Rules {
		for j, c := range e.cfg.Rules[i].Conditions {
			for k, op := range c.Operands {
				field := fmt.Sprintf("conditions[%d].operands[%d].", j, k)
				typ := strings.ToUpper(op.ObjectType)
				switch kind := kindOf(typ); {
				case typ == "":
					// An error already.
				case kind == kindOther:
					e.warn(-1, i, field+"objectType", "%s is not an object type of ZPA's access-policy API the lab knows: the rule is undecided whenever it is reached (POL-4)", typ)
				case kind == kindChrome:
					e.warn(-1, i, field+"objectType", "the lab models no Chrome browser, so %s is never known: the rule is undecided whenever it is reached (POL-4)", typ)
				case kind == kindApp && !ids[op.RHS]:
					e.warn(-1, i, field+"rhs", "APP %q is no segment of this tenant, so this operand never matches", op.RHS)
				case kind == kindAppGroup && !groups[op.RHS]:
					e.warn(-1, i, field+"rhs", "APP_GROUP %q is the segment group of no segment of this tenant, so this operand never matches", op.RHS)
				}
			}
		}
	}
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

// wildcardCannotMatch reports whether no name under "*.suffix" can match a
// regex whose required suffix is req (see requiredSuffix). Case is ignored,
// so the answer is sound whatever case a device reports.
func wildcardCannotMatch(suffix, req string) bool {
	if req == "" {
		return false
	}
	s := "." + strings.ToLower(suffix)
	return !strings.HasSuffix(s, req) && !strings.HasSuffix(req, s)
}
