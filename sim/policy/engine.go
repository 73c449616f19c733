package policy

import (
	"errors"
	"net/netip"
	"slices"
	"strconv"
	"sync"

	"github.com/c2clab/c2clab/sim/domain"
)

// Engine decides for one tenant. The broker keeps one Engine per tenant, so
// no decision can cross organizations (POL-2): an Engine only knows its own
// segments, rules and sessions. Segments and rules are fixed at New; sessions
// change with Register and Unregister. All methods are safe for concurrent use.
type Engine struct {
	cfg      Config // deep copy of New's argument; never modified afterwards
	hostname hostnameCheck
	syms     symbols
	segs     []segment         // parallel to cfg.Segments
	index    domain.Index[int] // domain -> index into segs
	rules    []rule            // sorted by (Order, position in cfg.Rules); index is the rank
	// segRules[i] lists, ascending, the ranks of the rules with segment
	// criteria (APP, APP_GROUP) that can match segment i.
	segRules [][]int32
	global   ruleIndex // rules without segment criteria
	// dir maps the key of each spelling of an Object (ID, Name, aliases)
	// to the Object's canonical key (see appendKey).
	dir map[string]string
	// users holds each listed user's identity attributes as symbols (only
	// the values some rule mentions).
	users map[string]*[numKinds]attrSet
	// ambiguous lists names two Objects of one type share (for Lint).
	ambiguous []string
	warnings  []Warning

	mu       sync.RWMutex
	sessions map[string]*session     // by session ID; guarded by mu
	holders  map[string]*session     // normalized FQDN -> the enrolled session holding it; guarded by mu
	byIP     map[netip.Addr]*session // client IP (SEG-9) -> the session holding it; guarded by mu
}

// Registered is one session as the broker's User Status shows it.
type Registered struct {
	Registration
	Enrolment
}

// ConfigError is one reason New refuses a Config. Field uses the ZPA API's
// names so that sim/tenant can point at the file's line.
type ConfigError struct {
	Segment int    // index into Config.Segments, or -1
	Rule    int    // index into Config.Rules, or -1
	Field   string // within the segment or rule, e.g. "domainNames[1]", "conditions[0].operands[2].rhs"
	Msg     string
	Err     error // underlying error, e.g. wrapping domain.ErrInvalid; may be nil
}

func (e *ConfigError) Error() string { return place(e.Segment, e.Rule, e.Field) + ": " + e.Msg }

// place names where a ConfigError or Warning is, with the ZPA API's names:
// "applicationSegments[1].domainNames[0]", "rules[2].action".
func place(seg, rule int, field string) string {
	var where string
	switch {
	case seg >= 0:
		where = "applicationSegments[" + strconv.Itoa(seg) + "]"
	case rule >= 0:
		where = "rules[" + strconv.Itoa(rule) + "]"
	case field != "":
		return field
	default:
		return "policy"
	}
	if field != "" {
		where += "." + field
	}
	return where
}

func (e *ConfigError) Unwrap() error { return e.Err }

// New checks cfg and builds the indexes Decide needs. It returns every
// problem that makes cfg unusable, joined, each a *ConfigError: a bad domain
// or one in two segments, a duplicate segment or rule ID, a reversed port
// range, an unknown action or operator. A missing, duplicate or bad hostname
// regex is not an error: every registration then reports FQDN_NO_ENTRIES,
// FQDN_TOO_MANY_REGEX or FQDN_BAD_REGEX, as ZPA does (HV-1), and Lint says
// so.
//
// New keeps its own deep copy of cfg and never modifies cfg: the caller may
// change or reuse cfg afterwards, and a caller that builds cfg only to pass
// it here (tenant.Tenant.Engine) need not copy it first.
func New(cfg Config) (*Engine, error) {
	e := &Engine{
		cfg:      cfg.Clone(),
		sessions: make(map[string]*session),
		holders:  make(map[string]*session),
		byIP:     make(map[netip.Addr]*session),
	}
	e.hostname = compileHostname(e.cfg.HostnameRegexes)
	e.compileObjects()
	errs := e.compileSegments()
	errs = append(errs, e.compileRules()...)
	errs = append(errs, e.compileApprovals()...)
	errs = append(errs, e.checkAddrs()...)
	e.compileUsers()
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	e.indexRules()
	e.lint()
	return e, nil
}

// Config returns a copy of the configuration the engine decides with.
func (e *Engine) Config() Config { return e.cfg.Clone() }

// Segment returns the most specific segment for fqdn by SEG-3, enabled or
// not. The Segment is shared with the engine and must not be modified.
func (e *Engine) Segment(fqdn string) (*Segment, bool) {
	i, _, ok := e.index.Lookup(fqdn)
	if !ok {
		return nil, false
	}
	return e.segs[i].s, true
}

// Lint lists what is usable but probably not what the admin meant, each
// with where it is: an unusable hostname regex list (HV-1), a
// client-to-client segment domain the regex can never match (SEG-1), a
// domain listed twice in one segment, operands naming no segment or segment
// group, and operand types the lab does not model.
func (e *Engine) Lint() []Warning { return slices.Clone(e.warnings) }

// Warnings is Lint as text, one line per warning, for logs.
func (e *Engine) Warnings() []string {
	out := make([]string, len(e.warnings))
	for i, w := range e.warnings {
		out[i] = w.String()
	}
	return out
}

// Clone returns a deep copy of c: it shares no slice or map with c.
func (c Config) Clone() Config {
	c.HostnameRegexes = slices.Clone(c.HostnameRegexes)
	c.Segments = slices.Clone(c.Segments)
	for i := range c.Segments {
		s := &c.Segments[i]
		s.Domains = slices.Clone(s.Domains)
		s.TCP = slices.Clone(s.TCP)
		s.UDP = slices.Clone(s.UDP)
		s.ServerGroups = slices.Clone(s.ServerGroups)
		s.Addrs = slices.Clone(s.Addrs)
	}
	c.Rules = slices.Clone(c.Rules)
	for i := range c.Rules {
		r := &c.Rules[i]
		r.Conditions = slices.Clone(r.Conditions)
		for j := range r.Conditions {
			r.Conditions[j].Operands = slices.Clone(r.Conditions[j].Operands)
		}
	}
	c.Users = slices.Clone(c.Users)
	for i := range c.Users {
		u := &c.Users[i]
		u.IdP, u.Groups, u.Risk = u.IdP.clone(), u.Groups.clone(), u.Risk.clone()
		u.SCIM, u.SAML = u.SCIM.clone(), u.SAML.clone()
	}
	c.Objects = slices.Clone(c.Objects)
	for i := range c.Objects {
		c.Objects[i].Aliases = slices.Clone(c.Objects[i].Aliases)
	}
	c.Approvals = slices.Clone(c.Approvals)
	for i := range c.Approvals {
		a := &c.Approvals[i]
		a.Emails, a.Segments = slices.Clone(a.Emails), slices.Clone(a.Segments)
	}
	c.C2CIPRanges = slices.Clone(c.C2CIPRanges)
	return c
}
