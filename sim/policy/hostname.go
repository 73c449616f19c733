package policy

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/c2clab/c2clab/sim/code"
)

// hostnameCheck is the tenant's client hostname validation (HV-1, HV-2),
// compiled once at New.
type hostnameCheck struct {
	// fail is FQDN_NO_ENTRIES, FQDN_TOO_MANY_REGEX or FQDN_BAD_REGEX when
	// the tenant's regex list is unusable, "" otherwise.
	fail code.Code
	why  string         // trace line explaining fail
	text string         // the regex as configured (the one, or the bad one)
	re   *regexp.Regexp // anchored at both ends; nil when fail != ""
}

// compileHostname applies HV-1: exactly one regex, which must compile. Empty
// entries count as absent (a tenant file with `hostnameRegex: ""`). The regex
// uses Go's RE2 syntax; it must match the whole FQDN, case-sensitively,
// unless it says otherwise with (?i) (HV-2 default).
func compileHostname(list []string) hostnameCheck {
	var res []string
	for _, r := range list {
		if r != "" {
			res = append(res, r)
		}
	}
	switch len(res) {
	case 0:
		return hostnameCheck{fail: code.FQDNNoEntries,
			why: code.FQDNNoEntries.Sentence("the tenant has no client hostname validation regex, so no device is enrolled for client-to-client")}
	case 1:
	default:
		return hostnameCheck{fail: code.FQDNTooManyRegex, text: strings.Join(res, ", "),
			why: code.FQDNTooManyRegex.Sentence("the tenant has " + strconv.Itoa(len(res)) + " client hostname validation regexes and ZPA accepts exactly one, so no device is enrolled")}
	}
	text := res[0]
	re, err := compileAnchored(text)
	if err != nil {
		return hostnameCheck{fail: code.FQDNBadRegex, text: text,
			why: code.FQDNBadRegex.Sentence("client hostname validation regex " + strconv.Quote(text) + " does not compile (" + err.Error() + "), so no device is enrolled")}
	}
	return hostnameCheck{text: text, re: re}
}

// compileAnchored compiles r as HV-2 applies it: matching the whole FQDN.
// It compiles r alone first, for two reasons: wrapping an unbalanced regex
// such as "a)(b" in ^(?:...)$ would make it compile, and the error should
// be about r as the admin wrote it.
func compileAnchored(r string) (*regexp.Regexp, error) {
	if _, err := regexp.Compile(r); err != nil {
		return nil, err
	}
	return regexp.Compile("^(?:" + r + ")$")
}

// validate returns the registration fields HV-1..HV-5 decide and the trace.
// It does not look at other sessions (HV-6 is Register's).
func (h *hostnameCheck) validate(fqdn string) Enrolment {
	en := Enrolment{Regex: h.text}
	switch {
	case h.fail != "":
		en.FQDNRegisteredError = h.fail
		en.Trace = append(en.Trace, h.why)
	case fqdn == "":
		en.refuse(code.FQDNEmpty, "the connector reported no FQDN: it does not collect the machine hostname, or has none")
	case h.re.MatchString(fqdn):
		en.FQDNRegistered = true
		en.FQDNRegisteredError = code.FQDNMatch
		en.Trace = append(en.Trace, "hostname regex "+strconv.Quote(h.text)+" matches "+strconv.Quote(fqdn)+" (whole name, case-sensitive)")
	default:
		en.refuse(code.FQDNNoMatch, "hostname regex "+strconv.Quote(h.text)+" does not match "+strconv.Quote(fqdn)+" (whole name, case-sensitive)")
		if !strings.Contains(strings.TrimSuffix(fqdn, "."), ".") {
			en.Trace = append(en.Trace, strconv.Quote(fqdn)+" is a bare hostname: the device has no primary DNS suffix, and FQDN = hostname + primary DNS suffix")
		}
	}
	return en
}

// refuse leaves the FQDN unregistered with c, its trace sentence written
// from c (code.Sentence).
func (en *Enrolment) refuse(c code.Code, why string) {
	en.FQDNRegistered = false
	en.FQDNRegisteredError = c
	en.Trace = append(en.Trace, c.Sentence(why))
}
