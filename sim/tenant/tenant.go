// Package tenant reads a tenant file: one ZPA organization's client hostname
// validation regexes, application segments, access rules, users and groups,
// plus the expectations (`tests:`) that `c2clab check` runs. Field names are
// the ZPA API's, and a JSON export of a real tenant's segments and access
// policy loads as it is; every error names the file, the line and the field.
package tenant

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/c2clab/c2clab/sim/code"
	"github.com/c2clab/c2clab/sim/configfile"
	"github.com/c2clab/c2clab/sim/device"
	"github.com/c2clab/c2clab/sim/policy"
)

// Tenant is a loaded, validated tenant file.
type Tenant struct {
	// Path is the file the tenant was read from.
	Path string
	// Name is the organization's name; it defaults to the file's base name.
	Name string
	// ID is the customer ID; it defaults to Name.
	ID string
	// HostnameRegexes is the client hostname validation list (HV-1).
	HostnameRegexes []string
	// ImplicitBlock is implicitPolicy: block (POL-2).
	ImplicitBlock bool
	Users         []User
	SegmentGroups []Group
	ServerGroups  []Group
	// Segments are applicationSegments followed by application.list,
	// converted (enabled defaulted, ports parsed).
	Segments []policy.Segment
	// Rules are rules followed by policySet.rules, in file order; disabled
	// rules are left out. The engine sorts by Order.
	Rules []policy.Rule
	Tests []Test
	// Objects are what operands point at (IdPs, SCIM groups and
	// attributes, SAML attributes, posture profiles, trusted networks,
	// machine groups), from the bodies ZPA's API returns for them; the
	// engine resolves IDs and names through them (POL-4, IMP-1).
	Objects []policy.Object
	// Approvals are the approvals: section (POL-5).
	Approvals []policy.Approval
	// C2CIPRanges is c2cIpRanges (SEG-9).
	C2CIPRanges []netip.Prefix
}

// User is a ZPA identity as the IdP and the SCIM directory describe it:
// its SCIM groups, SCIM and SAML attributes, IdP and ZIA risk level, each
// unknown when the users: entry leaves it out (POL-4).
type User = policy.User

// Group is a segment group or a server group.
type Group struct{ ID, Name string }

// Test is one expectation of the tests: section, with its device files loaded.
type Test struct {
	Name string
	// Where is "file:line" of the test, for reports.
	Where string
	// User makes the connection; it defaults to From's user.
	User string
	// From is the source device; nil means the default source (a logged-in
	// Windows Client Connector 4.5).
	From *device.Profile
	// To is the destination as written (host:port), split into FQDN and Port.
	To    string
	FQDN  string
	Port  uint16
	Proto string // "tcp" or "udp"
	// Devices are the destination devices registered before the test.
	Devices []*device.Profile
	// ExpectAllow is expect: allow; false is expect: deny or undecided.
	ExpectAllow bool
	// Expect is the verdict expected: allowed (expect: allow), denied
	// (deny) or undecided (undecided, POL-4).
	Expect policy.Verdict
	// At is the test's at: time (approvals, POL-5); zero when absent.
	At time.Time
	// Code, if set, is the code the answer must carry.
	Code code.Code
}

// Warning is something ZPA accepts but an admin should see, such as a
// tenant with two hostname regexes (every registration then fails with
// FQDN_TOO_MANY_REGEX).
type Warning struct {
	File  string
	Line  int
	Field string
	Msg   string
	// NoDecision is true when what the warning is about cannot change an
	// answer (a field that only names or describes something); false, the
	// default, means it can, and explain and check show those first.
	NoDecision bool
}

func (w Warning) String() string {
	s := (&configfile.Error{File: w.File, Line: w.Line, Field: w.Field, Msg: w.Msg}).Error()
	if w.NoDecision {
		return s + " (cannot change a decision)"
	}
	return s + " (can change a decision)"
}

// DecisionsFirst orders warnings so that those that can change a decision
// come first, each group in its own order, as explain and check print them.
func DecisionsFirst(ws []Warning) []Warning {
	out := slices.Clone(ws)
	slices.SortStableFunc(out, func(a, b Warning) int {
		switch {
		case a.NoDecision == b.NoDecision:
			return 0
		case !a.NoDecision:
			return -1
		}
		return 1
	})
	return out
}

// Load reads and validates a tenant file (YAML or JSON). Device files named
// in tests: are read relative to the tenant file's directory.
func Load(path string) (*Tenant, []Warning, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("load tenant: %w", err)
	}
	return Parse(path, data)
}

// Parse is Load for data already read; path names the file in errors and
// anchors the relative paths of device files.
func Parse(path string, data []byte) (*Tenant, []Warning, error) {
	return parse(path, data, osFiles(filepath.Dir(path), device.Load))
}

// ParseFS reads the tenant file name from fsys (such as the embedded
// fixtures); device files named in tests: are read from fsys too, relative
// to the tenant file.
func ParseFS(fsys fs.FS, name string) (*Tenant, []Warning, error) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, nil, fmt.Errorf("load tenant: %w", err)
	}
	return parse(name, data, fsFiles(fsys, path.Dir(name)))
}

// parse is Parse with the device files injected, so that fuzzing never
// reads files a random input names.
func parse(name string, data []byte, files deviceFiles) (*Tenant, []Warning, error) {
	t, _, warns, err := parseFile(name, data, files)
	return t, warns, err
}

// parseFile is parse that also returns the decoded file, for tenant
// import to write it out again; the file is nil when it did not decode.
func parseFile(name string, data []byte, files deviceFiles) (*Tenant, *fileTenant, []Warning, error) {
	var f fileTenant
	doc, err := configfile.Parse(name, data, &f)
	if err != nil {
		return nil, nil, nil, err
	}
	l := &loader{doc: doc, f: &f, files: files, devices: map[string]*device.Profile{}}
	t := l.load()
	if len(l.errs) > 0 {
		return nil, &f, l.warns, errors.Join(l.errs...)
	}
	t.Path = name
	return t, &f, l.warns, nil
}

// Policy returns the tenant's policy as the engine takes it. The result
// shares nothing with t, so a caller may change it freely. To build an
// engine, Engine is cheaper: it copies the configuration once, not twice.
func (t *Tenant) Policy() policy.Config { return t.config().Clone() }

// Engine builds the policy engine for t. policy.New keeps its own copy of
// the configuration, so the one given to it may share t's slices: that
// saves copying a tenant at ZPA's limits twice.
func (t *Tenant) Engine() (*policy.Engine, error) { return policy.New(t.config()) }

// config is the tenant's policy sharing t's slices; only policy.New and
// Config.Clone may see it, as neither modifies it nor keeps it.
func (t *Tenant) config() policy.Config {
	c := policy.Config{
		Tenant:          t.ID,
		HostnameRegexes: t.HostnameRegexes,
		ImplicitBlock:   t.ImplicitBlock,
		Segments:        t.Segments,
		Rules:           t.Rules,
		Users:           t.Users,
		Objects:         t.Objects,
		Approvals:       t.Approvals,
		C2CIPRanges:     t.C2CIPRanges,
	}
	return c
}

// loader validates and converts one decoded file, collecting every error
// and warning so that an admin sees them all at once.
type loader struct {
	doc     *configfile.Doc
	f       *fileTenant
	files   deviceFiles
	devices map[string]*device.Profile // by resolved path: each file is read once
	errs    []error
	warns   []Warning

	// Filled while loading, used by later checks and to map what the
	// policy engine reports back to the file.
	segFields  []string // the file field of each converted segment
	segDomains [][]int  // per converted segment, the file index of each of its domains
	ruleFields []string // the file field of each converted rule
	segIDs     map[string]bool
	segGroups  map[string]bool
	srvGroups  map[string]bool
	userGroups map[string]bool
	users      map[string]bool

	// Pasted bodies and the objects operands point at (bodies.go, objects.go).
	segGroupList, srvGroupList []Group
	objs                       []policy.Object
	objIndex                   map[string]map[string]int // by Type, then ID or alias: index in objs
	unnamed                    map[string]*unnamedRefs   // by operand type
	unnamedOrder               []string
}

// errorf records an error at field. The format may wrap an error with %w,
// as fmt.Errorf does; see fail.
func (l *loader) errorf(field, format string, args ...any) {
	field = v2Field(field)
	msg := fmt.Errorf(format, args...)
	var cause error
	switch msg.(type) {
	case interface{ Unwrap() error }, interface{ Unwrap() []error }:
		cause = msg
	}
	l.fail(field, msg.Error(), cause)
}

// fail records an error at field with the message msg. If cause is not
// nil the error unwraps to it, so that a caller can still errors.Is or
// errors.As it (fs.ErrNotExist, domain.ErrInvalid, *policy.ConfigError).
func (l *loader) fail(field, msg string, cause error) {
	err := l.doc.Errorf(field, "%s", msg)
	if cause != nil {
		err = &fileError{err: err, cause: cause}
	}
	l.errs = append(l.errs, err)
}

// fileError is a configfile.Error (file, line, field, message) that keeps
// the error its message came from.
type fileError struct {
	err   error // a *configfile.Error
	cause error
}

func (e *fileError) Error() string   { return e.err.Error() }
func (e *fileError) Unwrap() []error { return []error{e.err, e.cause} }

func (l *loader) warnf(field, format string, args ...any) {
	field = v2Field(field)
	var ce *configfile.Error
	if errors.As(l.doc.Errorf(field, format, args...), &ce) {
		l.warns = append(l.warns, Warning{File: ce.File, Line: ce.Line, Field: ce.Field, Msg: ce.Msg})
	}
}

// notef is warnf for what cannot change a decision.
func (l *loader) notef(field, format string, args ...any) {
	l.warnf(field, format, args...)
	if n := len(l.warns); n > 0 {
		l.warns[n-1].NoDecision = true
	}
}

func (l *loader) load() *Tenant {
	f := l.f
	t := &Tenant{Name: strings.TrimSpace(f.Name), ID: strings.TrimSpace(f.ID)}
	if t.Name == "" {
		t.Name = baseName(l.doc.Path)
	}
	if t.ID == "" {
		t.ID = t.Name
	}
	// ZPA accepts any list here, so nothing is an error: the engine warns
	// about the list's problems, which show at registration (HV-1).
	t.HostnameRegexes = clone(f.ClientHostnameValidation)
	switch strings.ToLower(f.ImplicitPolicy) {
	case "", "allow":
	case "block":
		t.ImplicitBlock = true
	default:
		l.errorf("implicitPolicy", "is %q, want allow (default: any user of the organization may reach any enrolled client, POL-2) or block", f.ImplicitPolicy)
	}
	t.Users = l.usersAndGroups()
	l.checkPasted()
	t.SegmentGroups = l.pastedGroups(kindSegmentGroup, l.groups("segmentGroups", f.SegmentGroups))
	t.ServerGroups = l.pastedGroups(kindServerGroup, l.groups("serverGroups", f.ServerGroups))
	l.segGroupList, l.srvGroupList = t.SegmentGroups, t.ServerGroups
	t.Segments = l.segments()
	l.checkGroupApps()
	t.Objects = l.objects()
	l.objs = t.Objects
	t.Rules = l.rules()
	l.noteUnnamed()
	t.Tests = l.tests()
	t.Approvals = l.approvals()
	t.C2CIPRanges = l.c2cIPRanges()
	l.engineAccepts(t)
	// Warnings come from the loader and the engine; show them in file order.
	slices.SortStableFunc(l.warns, func(a, b Warning) int { return cmp.Compare(a.Line, b.Line) })
	return t
}

// engineAccepts builds the policy engine once, as the broker will, and
// points what it refuses (a domain in two segments, ...) and what it warns
// about (HV-1, SEG-1, operands, ...) at the file's lines. These checks live
// in sim/policy only, so that the file, `c2clab explain` and the broker
// agree. It runs even when the loader found errors, on what converted
// cleanly, so that every error is reported at once; the engine's warnings
// about rules are then left out, since they may only repeat that a segment
// they name was left out for its errors.
func (l *loader) engineAccepts(t *Tenant) {
	hadErrors := len(l.errs) > 0
	e, err := t.Engine()
	if err != nil {
		l.engineErrors(err)
		return
	}
	for _, w := range e.Lint() {
		if hadErrors && w.Rule >= 0 {
			continue
		}
		if w.NoDecision {
			l.notef(l.fileField(w.Segment, w.Rule, w.Field), "%s", w.Msg)
			continue
		}
		l.warnf(l.fileField(w.Segment, w.Rule, w.Field), "%s", w.Msg)
	}
}

func (l *loader) engineErrors(err error) {
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		var ce *policy.ConfigError
		if !errors.As(e, &ce) {
			l.errorf("", "policy: %w", e)
			continue
		}
		l.fail(l.fileField(ce.Segment, ce.Rule, ce.Field), ce.Msg, ce)
	}
}

// fileField turns a place in the policy configuration (a ConfigError's or
// Warning's Segment, Rule and Field) into the file's field path: segment
// and rule indexes become the file's (applicationSegments[i] or
// application.list[i], rules[i] or policySet.rules[i]), and a domain index
// skips the IP addresses the loader dropped. A tenant-level field
// (clientHostnameValidation[i]) is the file's already.
func (l *loader) fileField(seg, rule int, field string) string {
	var base string
	switch {
	case seg >= 0 && seg < len(l.segFields):
		base = l.segFields[seg]
		if k, rest, ok := domainIndex(field); ok && k < len(l.segDomains[seg]) {
			field = fmt.Sprintf("domainNames[%d]%s", l.segDomains[seg][k], rest)
		}
	case rule >= 0 && rule < len(l.ruleFields):
		base = l.ruleFields[rule]
	default:
		return field
	}
	if field == "" {
		return base
	}
	return base + "." + field
}

// domainIndex splits "domainNames[k]rest".
func domainIndex(field string) (k int, rest string, ok bool) {
	s, ok := strings.CutPrefix(field, "domainNames[")
	if !ok {
		return 0, "", false
	}
	num, rest, ok := strings.Cut(s, "]")
	if !ok {
		return 0, "", false
	}
	k, err := strconv.Atoi(num)
	return k, rest, err == nil && k >= 0
}

// usersAndGroups converts users:. A field left out is unknown, so that a
// rule needing it is undecided (POL-4); written empty it is none.
func (l *loader) usersAndGroups() []User {
	l.users = map[string]bool{}
	l.userGroups = map[string]bool{}
	var out []User
	for i, u := range l.f.Users {
		field := fmt.Sprintf("users[%d]", i)
		name := strings.TrimSpace(u.Name)
		switch {
		case name == "":
			l.errorf(field+".name", "missing; want the user's ZPA identity, e.g. admin@example.com")
			continue
		case l.users[name]:
			l.errorf(field+".name", "user %q is listed twice", name)
			continue
		}
		l.users[name] = true
		for _, g := range u.Groups {
			l.userGroups[g] = true
		}
		pu := User{Name: name, SCIM: l.attrs(field+".scimAttributes", u.SCIMAttributes), SAML: l.attrs(field+".samlAttributes", u.SAMLAttributes)}
		if l.doc.Has(field + ".groups") {
			pu.Groups = policy.Known(clone(u.Groups)...)
		}
		pu.IdP = policy.AttrOfPtr(trimmed(u.IdP))
		pu.Risk = l.riskLevel(field+".riskLevel", u.RiskLevel)
		out = append(out, pu)
	}
	return out
}

// riskLevels are RISK_FACTOR_TYPE's values (terraform-provider-zpa
// zpa/common.go): ZIA's own UNKNOWN is a level, not the lab not knowing.
var riskLevels = []string{"UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"}

func (l *loader) riskLevel(field string, v *string) policy.Attr {
	v = trimmed(v)
	if v == nil {
		return policy.Attr{}
	}
	r := strings.ToUpper(*v)
	if !slices.Contains(riskLevels, r) {
		l.errorf(field, "is %q, want one of %s (ZIA's levels; leave it out when unknown)", *v, strings.Join(riskLevels, ", "))
		return policy.Attr{}
	}
	return policy.Known(r)
}

// attrs converts SCIM or SAML attributes: absent is unknown; a map, even
// an empty one, says the user has exactly these.
func (l *loader) attrs(field string, m map[string][]string) policy.Attrs {
	if !l.doc.Has(field) {
		return policy.Attrs{}
	}
	out := policy.Attrs{Known: true, Values: make(map[string][]string, len(m))}
	for k, vs := range m {
		if strings.TrimSpace(k) == "" {
			l.errorf(field, "has an empty attribute name; want the attribute's name or id")
			continue
		}
		out.Values[strings.TrimSpace(k)] = clone(vs)
	}
	return out
}

func trimmed(v *string) *string {
	if v == nil {
		return nil
	}
	t := strings.TrimSpace(*v)
	return &t
}

func (l *loader) groups(field string, in []fileGroup) []Group {
	seen := map[string]bool{}
	var out []Group
	for i, g := range in {
		id := strings.TrimSpace(g.ID)
		if id == "" {
			id = strings.TrimSpace(g.Name)
		}
		switch {
		case id == "":
			l.errorf(fmt.Sprintf("%s[%d].id", field, i), "missing; want an id (or at least a name)")
			continue
		case seen[id]:
			l.errorf(fmt.Sprintf("%s[%d].id", field, i), "id %q is listed twice", id)
			continue
		}
		seen[id] = true
		out = append(out, Group{ID: id, Name: g.Name})
	}
	return out
}

// clone copies s; empty is nil, so that converted configs compare equal.
func clone[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return append([]T(nil), s...)
}

func baseName(path string) string {
	b := filepath.Base(path)
	return strings.TrimSuffix(b, filepath.Ext(b))
}
