// Package check answers "can this user reach this device on this port, and
// why" for a tenant, and runs a tenant file's tests: expectations. It builds
// a sim/policy engine, registers the destination devices as their connectors
// would, decides as the broker would, and adds what the agents on either end
// do on their own (SEG-4 at the source, EP-1 at the destination), so that
// its answer is what the lab would show. It is pure: no I/O.
package check

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/c2clab/c2clab/sim/code"
	"github.com/c2clab/c2clab/sim/conform"
	"github.com/c2clab/c2clab/sim/device"
	"github.com/c2clab/c2clab/sim/domain"
	"github.com/c2clab/c2clab/sim/policy"
	"github.com/c2clab/c2clab/sim/wire"
)

// Question is one what-if: User on From connects to FQDN:Port/Proto while
// Devices are registered.
type Question struct {
	// User is the ZPA identity making the connection; empty means From.User.
	User string
	// From is the source device; nil means DefaultSource(User).
	From *device.Profile
	// Devices are registered before the decision, each under its profile
	// name as session ID, in order (so a later duplicate FQDN loses, HV-6),
	// as conform.FromProfile maps them. A device with Private
	// Access off is not registered: its connector never connects (DEV-5).
	Devices []*device.Profile
	FQDN    string
	Port    uint16
	// Proto is "tcp" (default when empty) or "udp".
	Proto string
	// Time is when the connection is asked for, for approvals (POL-5);
	// zero: a REQUIRE_APPROVAL rule that matches is undecided.
	Time time.Time
}

// Answer is the explained outcome.
type Answer struct {
	// Allowed is the end-to-end outcome: policy allowed and neither agent
	// would stop the connection.
	Allowed bool `json:"allowed"`
	// Local: the source agent answered itself (DEV-5, a name no segment
	// covers, SEG-4); nothing reached the broker and nothing is logged.
	Local bool `json:"local,omitempty"`
	// PolicyAllowed is the broker's decision alone.
	PolicyAllowed bool              `json:"policyAllowed"`
	AccessType    policy.AccessType `json:"accessType,omitempty"`
	// Verdict is "allowed", "denied" or "undecided": undecided when an
	// access rule needs an attribute the question does not describe and no
	// earlier rule decided (POL-4); Allowed is then false.
	Verdict policy.Verdict `json:"verdict"`
	// Undecided names the rule and the attribute when Verdict is undecided.
	Undecided *Undecided `json:"undecided,omitempty"`
	// Code is why the connection fails; empty when Allowed.
	Code    code.Code `json:"code,omitempty"`
	Meaning string    `json:"meaning,omitempty"`
	User    string    `json:"user"`
	Source  string    `json:"source"`
	FQDN    string    `json:"fqdn"`
	Port    uint16    `json:"port"`
	Proto   string    `json:"proto"`
	Segment *Segment  `json:"segment,omitempty"`
	Rule    *Rule     `json:"rule,omitempty"`
	// FQDNRegistered and FQDNRegisteredError are the User Status fields of
	// the device reporting FQDN (HV-3); false and empty when none does.
	FQDNRegistered      bool      `json:"fqdnRegistered"`
	FQDNRegisteredError code.Code `json:"fqdnRegisteredError,omitempty"`
	// Destination is the registration of the device reporting FQDN, if any.
	Destination *Registration `json:"destination,omitempty"`
	// Devices are every registration, in Question order; a device with
	// Private Access off has none (DEV-5).
	Devices []Registration `json:"devices,omitempty"`
	// Trace says, in order, what decided: source, destination registration,
	// segment, port, rule, destination, in words an admin understands.
	Trace []string `json:"trace"`
}

// Undecided says which rule needed which attribute of the user or device.
type Undecided struct {
	Rule       string `json:"rule"`
	ObjectType string `json:"objectType"`
	Attribute  string `json:"attribute"`
}

// Segment names the chosen application segment.
type Segment struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Enabled bool   `json:"enabled"`
}

// Rule names the deciding access rule.
type Rule struct {
	ID     string        `json:"id"`
	Name   string        `json:"name"`
	Order  int           `json:"order"`
	Action policy.Action `json:"action"`
}

// Registration is one device's enrolment as the broker's User Status shows it.
type Registration struct {
	Device              string    `json:"device"`
	FQDN                string    `json:"fqdn"`
	FQDNRegistered      bool      `json:"fqdnRegistered"`
	FQDNRegisteredError code.Code `json:"fqdnRegisteredError,omitempty"`
	Available           bool      `json:"available"`
	Code                code.Code `json:"code,omitempty"`
	Trace               []string  `json:"trace"`
}

// DefaultSource is the source device when a question names none: a Windows
// Client Connector 4.5, AD-joined and logged in as user, with Private
// Access on and no posture profiles.
func DefaultSource(user string) *device.Profile {
	return &device.Profile{
		Name: "default source", Hostname: "admin-workstation", PrimaryDNSSuffix: "example.com",
		OS: device.Windows, ConnectorVersion: "4.5", JoinState: device.JoinAD, LoggedIn: true, User: user,
		Posture: []string{},
	}
}

// Options change how check models the agents. The zero value is the one
// model of a conforming agent (sim/conform), which the lab's agents run;
// anything else is a model that differs from the lab, which is how a test
// proves that `c2clab check --lab` notices a difference.
type Options struct {
	// Intercept, when set, replaces the source side's decision
	// (conform.Source.Intercept).
	Intercept func(src *conform.Source, privateAccess bool, dev policy.DeviceAttrs, fqdn string, port uint16, proto string) conform.SourceOutcome
}

// Asker answers many questions on one tenant's engine, with the source
// side the broker's segment list gives every agent of the tenant. It is
// not safe for concurrent use: each question registers its devices.
type Asker struct {
	e    *policy.Engine
	src  *conform.Source
	opts Options
}

// NewAsker builds the engine for cfg once, for many questions.
func NewAsker(cfg policy.Config, opts Options) (*Asker, error) {
	e, err := policy.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("explain: tenant policy: %w", err)
	}
	return newAsker(e, opts)
}

func newAsker(e *policy.Engine, opts Options) (*Asker, error) {
	src, err := conform.NewSource(conform.Segments(e.Config().Segments))
	if err != nil {
		return nil, fmt.Errorf("explain: %w", err)
	}
	return &Asker{e: e, src: src, opts: opts}, nil
}

func (k *Asker) intercept(privateAccess bool, dev policy.DeviceAttrs, fqdn string, port uint16, proto string) conform.SourceOutcome {
	if k.opts.Intercept != nil {
		return k.opts.Intercept(k.src, privateAccess, dev, fqdn, port, proto)
	}
	return k.src.Intercept(privateAccess, dev, fqdn, port, proto)
}

// Explain answers q against cfg with a fresh engine.
func Explain(cfg policy.Config, q Question) (Answer, error) {
	if err := normalize(&q); err != nil {
		return Answer{}, err
	}
	k, err := NewAsker(cfg, Options{})
	if err != nil {
		return Answer{}, err
	}
	return k.answer(q), nil
}

// Explain answers q on the shared engine: it leaves no registration
// behind, so the next question starts from none.
func (k *Asker) Explain(q Question) (Answer, error) {
	if err := normalize(&q); err != nil {
		return Answer{}, err
	}
	defer func() {
		for _, p := range q.Devices {
			k.e.Unregister(p.Name)
		}
	}()
	return k.answer(q), nil
}

// answer registers q's devices and follows the connection from the source
// agent through the broker to the destination agent.
func (k *Asker) answer(q Question) Answer {
	a := Answer{User: q.User, Source: q.From.Name, FQDN: q.FQDN, Port: q.Port, Proto: q.Proto}
	a.register(k.e, q)
	a.follow(k, q)
	switch {
	case a.Allowed:
		a.Verdict = policy.VerdictAllowed
	case a.Undecided != nil && a.Code == code.BrkPolicyUndecided:
		a.Verdict = policy.VerdictUndecided
	default:
		a.Verdict = policy.VerdictDenied
	}
	if i, ok := code.Lookup(a.Code); ok && a.Code != "" {
		a.Meaning = i.Meaning
	}
	return a
}

func (a *Answer) follow(k *Asker, q Question) {
	a.Trace = append(a.Trace, fmt.Sprintf("source: %s on %s (%s, Client Connector %s)", q.User, q.From.Name, q.From.OS, q.From.ConnectorVersion))
	// The source agent's view: its registration (with the user the question
	// names) and the segment list the broker sends it.
	reg := conform.Register(q.From)
	reg.User = q.User
	preg := conform.Registration(q.From.Name, &reg)
	connect := wire.Connect{FQDN: q.FQDN, Port: q.Port, Proto: q.Proto}
	out := k.intercept(reg.PrivateAccess, preg.Device, q.FQDN, q.Port, q.Proto)
	if out.Code == code.CltPrivateAccessDisabled {
		a.fail(out.Code, out.Line)
		a.Local = true
		return
	}
	a.traceDestination(q)
	req := conform.Request(&preg, &reg, &connect, q.Time)
	req.TraceMisses = true // an admin asking "why not" sees each rule that did not match, and why
	d := k.e.Decide(req)
	a.decision(d)
	if out.Code != "" {
		// Nothing reaches the broker; its decision above is what it would
		// have said, for the admin.
		a.fail(out.Code, out.Line)
		a.Local = true
		return
	}
	if a.Allowed && d.AccessType == policy.ClientToClient {
		a.destinationAgent(q, d.Destination)
	}
}

func normalize(q *Question) error {
	if q.User == "" && q.From != nil {
		q.User = q.From.User
	}
	if q.User == "" {
		return errors.New("explain: no user: name the ZPA user making the connection")
	}
	if q.From == nil {
		q.From = DefaultSource(q.User)
	}
	if !domain.ValidName(q.FQDN) {
		return fmt.Errorf("explain: destination %q is not an FQDN", q.FQDN)
	}
	if q.Port == 0 {
		return fmt.Errorf("explain: destination %q has no port", q.FQDN)
	}
	switch q.Proto = strings.ToLower(q.Proto); q.Proto {
	case "":
		q.Proto = "tcp"
	case "tcp", "udp":
	default:
		return fmt.Errorf("explain: protocol %q: want tcp or udp", q.Proto)
	}
	return nil
}

// register registers every device as its connector would and remembers the
// one that reports the requested FQDN. A connector with Private Access off
// never connects to the broker (DEV-5), as the lab's agent does not, so it
// is not registered at all and the broker answers C2C_CLIENT_NOT_FOUND for
// its name, as in the lab; traceDestination says why.
func (a *Answer) register(e *policy.Engine, q Question) {
	want := domain.Normalize(q.FQDN)
	for _, p := range q.Devices {
		if !p.PrivateAccessEnabled() {
			continue
		}
		reg := conform.FromProfile(p.Name, p)
		en := e.Register(reg)
		r := Registration{Device: p.Name, FQDN: reg.FQDN, FQDNRegistered: en.FQDNRegistered,
			FQDNRegisteredError: en.FQDNRegisteredError, Available: en.Available, Code: en.Code, Trace: en.Trace}
		a.Devices = append(a.Devices, r)
	}
	// The first device that reports the name and got it holds it (HV-6);
	// otherwise the first that reports it says why it does not.
	for i := range a.Devices {
		r := &a.Devices[i]
		if domain.Normalize(r.FQDN) != want || r.FQDN == "" {
			continue
		}
		if a.Destination == nil || (r.FQDNRegistered && !a.Destination.FQDNRegistered) {
			a.Destination = r
		}
	}
	if a.Destination != nil {
		a.FQDNRegistered, a.FQDNRegisteredError = a.Destination.FQDNRegistered, a.Destination.FQDNRegisteredError
	}
}

// traceDestination explains the registration of the device reporting the
// FQDN or, when none does, what each device reports instead, or that it
// never connects.
func (a *Answer) traceDestination(q Question) {
	if r := a.Destination; r != nil {
		for _, l := range r.Trace {
			a.Trace = append(a.Trace, "registration of "+r.Device+": "+l)
		}
		return
	}
	regs := a.Devices // in q.Devices order, without the devices that never connect
	for _, p := range q.Devices {
		if !p.PrivateAccessEnabled() {
			a.Trace = append(a.Trace, p.Name+" has Private Access disabled: its connector never connects to the broker, so it cannot be reached (DEV-5)")
			continue
		}
		a.Trace = append(a.Trace, misreport(p, regs[0], q.FQDN))
		regs = regs[1:]
	}
}

// misreport says what a device reports instead of fqdn, and why if the
// reason is a device setting (HV-4, HV-5).
func misreport(p *device.Profile, r Registration, fqdn string) string {
	if r.FQDN == "" {
		why := "it reports no hostname"
		if !p.CollectsHostname() {
			why = "its connector does not collect the machine hostname (HV-5)"
		}
		return fmt.Sprintf("%s does not report %q: %s (%s)", p.Name, fqdn, why, r.FQDNRegisteredError)
	}
	line := fmt.Sprintf("%s does not report %q: it reports %q (%s)", p.Name, fqdn, r.FQDN, r.FQDNRegisteredError)
	first, _, _ := strings.Cut(fqdn, ".")
	if p.PrimaryDNSSuffix == "" && strings.EqualFold(r.FQDN, first) {
		line += ", its bare hostname: the device has no primary DNS suffix (HV-4)"
	}
	return line
}

func (a *Answer) decision(d policy.Decision) {
	a.Allowed, a.PolicyAllowed = d.Allowed, d.Allowed
	a.AccessType, a.Code = d.AccessType, d.Code
	if s := d.Segment; s != nil {
		a.Segment = &Segment{ID: s.ID, Name: s.Name, Enabled: s.Enabled}
	}
	if r := d.Rule; r != nil {
		a.Rule = &Rule{ID: r.ID, Name: r.Name, Order: r.Order, Action: r.Action}
	}
	if u := d.Undecided; u != nil {
		a.Undecided = &Undecided{ObjectType: u.ObjectType, Attribute: u.Attribute}
		if u.Rule != nil {
			a.Undecided.Rule = u.Rule.Name
		}
	}
	a.Trace = append(a.Trace, d.Trace...)
}

// destinationAgent adds EP-1: the destination's agent forwards to the local
// service at the device's interface IP, which the host firewall must allow
// and something must listen on.
func (a *Answer) destinationAgent(q Question, id string) {
	var p *device.Profile
	for _, d := range q.Devices {
		if d.Name == id {
			p = d
		}
	}
	if p == nil {
		return
	}
	c, line := conform.Deliver(p, q.Proto, q.Port)
	switch {
	case c != "":
		a.fail(c, line)
	case line != "":
		a.Trace = append(a.Trace, line)
	}
}

func (a *Answer) fail(c code.Code, line string) {
	a.Allowed, a.Code = false, c
	a.Trace = append(a.Trace, line)
}
