// Package labcheck asks a real lab the questions sim/check answers, and
// reports every difference between the two answers: outcome, code,
// whether the broker was reached, segment, rule and access type. It is
// how `c2clab check --lab` and its CI test show that what `c2clab
// explain` tells an admin is what the lab's agents and broker do.
//
// One lab serves all questions of a tenant. Questions with the same
// devices share them: the devices are started once, in order (so a later
// duplicate FQDN loses, HV-6), then the source device, and removed when
// the next question needs other devices.
package labcheck

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/c2clab/c2clab/sim/check"
	"github.com/c2clab/c2clab/sim/code"
	"github.com/c2clab/c2clab/sim/device"
	"github.com/c2clab/c2clab/sim/lab"
	"github.com/c2clab/c2clab/sim/policy"
)

// Case is one question with a name for reports.
type Case struct {
	Name, Where string
	Question    check.Question
}

// Options configure the lab side and the model side.
type Options struct {
	// Command starts a lab node (lab.Spec.Command); Env is added to its
	// environment; Dir is where the run directory is made.
	Command []string
	Env     []string
	Dir     string
	// Model is the check side's model of the agents; the zero value is
	// the one the lab's agents run. Anything else must show differences.
	Model check.Options
}

// Outcome is one side's answer, in the fields both sides can report.
type Outcome struct {
	Allowed bool      `json:"allowed"`
	Code    code.Code `json:"code,omitempty"`
	// Local: the source agent answered itself; nothing reached the broker.
	Local      bool   `json:"local"`
	Segment    string `json:"segment,omitempty"`
	Rule       string `json:"rule,omitempty"`
	AccessType string `json:"accessType,omitempty"`
}

// Difference is one field on which the two answers differ.
type Difference struct {
	Field string `json:"field"`
	Check string `json:"check"`
	Lab   string `json:"lab"`
}

func (d Difference) String() string {
	return fmt.Sprintf("%s: check says %s, the lab %s", d.Field, d.Check, d.Lab)
}

// Result is one question's two answers.
type Result struct {
	Name        string       `json:"name"`
	Where       string       `json:"where,omitempty"`
	Check       Outcome      `json:"check"`
	Lab         *Outcome     `json:"lab,omitempty"`
	Differences []Difference `json:"differences,omitempty"`
	// Undecided says why the lab cannot answer the question; then nothing
	// is compared.
	Undecided string `json:"undecided,omitempty"`
	// Error says why the question could not be asked at all.
	Error string `json:"error,omitempty"`

	answer *check.Answer // check's, while Run compares
}

// Agree reports whether the two answers are the same.
func (r Result) Agree() bool { return r.Error == "" && len(r.Differences) == 0 }

// Run asks every case of tenant cfg of check and of a loopback lab it
// starts and stops, and returns one Result per case, in order. An error
// means the lab itself could not be run.
//
// check answers Client to Server as if an App Connector served the
// segment's server groups and the app server listened on the port; the lab
// is given exactly that (appConnectors), so the answers can be compared.
func Run(ctx context.Context, opts Options, cfg policy.Config, cases []Case) ([]Result, error) {
	if cfg.Tenant == "" {
		cfg.Tenant = "tenant"
	}
	asker, err := check.NewAsker(cfg, opts.Model)
	if err != nil {
		return nil, err
	}
	out := make([]Result, len(cases))
	for i, c := range cases {
		out[i] = Result{Name: c.Name, Where: c.Where}
		a, err := asker.Explain(c.Question)
		if err != nil {
			out[i].Error = err.Error()
			continue
		}
		out[i].Check = fromAnswer(a)
		out[i].answer = &a
		switch {
		case a.Proto != "tcp":
			out[i].Undecided = "the lab's agents carry TCP only (SOCKS5 CONNECT), so the lab cannot answer a " + a.Proto + " question"
		case !c.Question.Time.IsZero():
			out[i].Undecided = "the lab's broker decides at the time it runs, not at " + c.Question.Time.Format(time.RFC3339)
		}
	}
	l, err := lab.New(ctx, lab.Spec{Command: opts.Command, Env: opts.Env, Dir: opts.Dir,
		Tenants: []lab.Tenant{{ID: cfg.Tenant, Policy: cfg}}})
	if err != nil {
		return nil, fmt.Errorf("labcheck: %w", err)
	}
	defer l.Close()
	if err := appConnectors(ctx, l, cfg, out); err != nil {
		return nil, err
	}
	r := &runner{lab: l, tenant: cfg.Tenant, seen: map[string]int{}}
	for _, g := range groups(cases, out) {
		if err := r.start(ctx, cases[g.first].Question); err != nil {
			return nil, err
		}
		for _, i := range g.cases {
			r.use(cases[i].Question)
			r.ask(ctx, &out[i])
		}
		if err := r.removeAll(ctx); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// appConnectors starts, for every segment with server groups that some
// answer reaches Client to Server, an App Connector serving its server
// groups, with one app server per FQDN asked, listening (echo) on every
// port asked of it.
func appConnectors(ctx context.Context, l *lab.Lab, cfg policy.Config, rs []Result) error {
	type app struct {
		fqdns []string
		ports map[string][]device.Service
	}
	bySeg := map[string]*app{}
	var order []string
	for _, r := range rs {
		a := r.answer
		if a == nil || r.Undecided != "" || a.AccessType != policy.ClientToServer || a.Segment == nil {
			continue
		}
		g, ok := bySeg[a.Segment.ID]
		if !ok {
			g = &app{ports: map[string][]device.Service{}}
			bySeg[a.Segment.ID] = g
			order = append(order, a.Segment.ID)
		}
		if _, ok := g.ports[a.FQDN]; !ok {
			g.fqdns = append(g.fqdns, a.FQDN)
		}
		g.ports[a.FQDN] = append(g.ports[a.FQDN], device.Service{Kind: "echo", Port: int(a.Port)})
	}
	for i, id := range order {
		var groups []string
		for _, s := range cfg.Segments {
			if s.ID == id {
				groups = s.ServerGroups
			}
		}
		g := bySeg[id]
		apps := make([]lab.App, len(g.fqdns))
		for j, f := range g.fqdns {
			apps[j] = lab.App{FQDN: f, Services: dedupe(g.ports[f])}
		}
		if err := l.AddAppConnector(ctx, cfg.Tenant, fmt.Sprintf("appc%d", i+1), groups, apps); err != nil {
			return fmt.Errorf("labcheck: App Connector for segment %q: %w", id, err)
		}
	}
	return nil
}

func dedupe(ss []device.Service) []device.Service {
	seen := map[int]bool{}
	var out []device.Service
	for _, s := range ss {
		if !seen[s.Port] {
			seen[s.Port] = true
			out = append(out, s)
		}
	}
	return out
}

// group is the cases that share devices and source, by index.
type group struct {
	first int
	cases []int
}

// groups puts together the cases whose devices and source are the same,
// in the order each first appears.
func groups(cases []Case, rs []Result) []group {
	var out []group
	index := map[string]int{}
	for i, c := range cases {
		if rs[i].Error != "" || rs[i].Undecided != "" {
			continue
		}
		k := deviceKey(c.Question)
		j, ok := index[k]
		if !ok {
			j = len(out)
			index[k] = j
			out = append(out, group{first: i})
		}
		out[j].cases = append(out[j].cases, i)
	}
	return out
}

// deviceKey is what a group shares: the devices, and the source unless it
// is one of them.
func deviceKey(q check.Question) string {
	from := source(q)
	if sourceIn(q) >= 0 {
		from = nil
	}
	data, _ := json.Marshal(struct {
		Devices []*device.Profile
		From    *device.Profile
	}{q.Devices, from})
	return string(data)
}

// sourceIn is the index of q's source among its devices, or -1: the source
// is one of them when From is, logged in as q's user.
func sourceIn(q check.Question) int {
	for i, p := range q.Devices {
		if p == q.From && (q.User == "" || q.User == p.User) {
			return i
		}
	}
	return -1
}

// source is the question's source device as the lab runs it: its agent
// is logged in as the question's user.
func source(q check.Question) *device.Profile {
	user := q.User
	var p device.Profile
	if q.From != nil {
		p = *q.From
		if user == "" {
			user = p.User
		}
	} else {
		p = *check.DefaultSource(user)
	}
	p.User = user
	return &p
}

// Compare lists the fields on which the check and lab answers differ.
// Segment, rule and access type are compared only when both reached the
// broker: for a connection the source dropped, check still shows what the
// broker would have said, and the lab has nothing to show.
func Compare(c, l Outcome) []Difference {
	var d []Difference
	add := func(field, cv, lv string) {
		if cv != lv {
			d = append(d, Difference{Field: field, Check: orNone(cv), Lab: orNone(lv)})
		}
	}
	add("outcome", verdict(c.Allowed), verdict(l.Allowed))
	add("code", string(c.Code), string(l.Code))
	add("reached the broker", fmt.Sprint(!c.Local), fmt.Sprint(!l.Local))
	if !c.Local && !l.Local {
		add("segment", c.Segment, l.Segment)
		add("rule", c.Rule, l.Rule)
		add("access type", c.AccessType, l.AccessType)
	}
	return d
}

func verdict(allowed bool) string {
	if allowed {
		return "allow"
	}
	return "deny"
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// fromAnswer is check's answer as an Outcome.
func fromAnswer(a check.Answer) Outcome {
	o := Outcome{Allowed: a.Allowed, Code: a.Code, Local: a.Local, AccessType: string(a.AccessType)}
	if a.Segment != nil {
		o.Segment = a.Segment.Name
	}
	if a.Rule != nil {
		o.Rule = a.Rule.Name
	}
	return o
}

// Summary counts results: agreeing, differing, undecided, failed.
func Summary(rs []Result) (agree, differ, undecided, errs int) {
	for _, r := range rs {
		switch {
		case r.Error != "":
			errs++
		case r.Undecided != "":
			undecided++
		case len(r.Differences) > 0:
			differ++
		default:
			agree++
		}
	}
	return
}

// Report is the differences of rs, one line each, for a test failure or
// the CLI.
func Report(rs []Result) error {
	var errs []error
	for _, r := range rs {
		if r.Error != "" {
			errs = append(errs, fmt.Errorf("%s: %s", r.Name, r.Error))
		}
		if len(r.Differences) > 0 {
			lines := make([]string, len(r.Differences))
			for i, d := range r.Differences {
				lines[i] = d.String()
			}
			errs = append(errs, fmt.Errorf("%s: %s", r.Name, strings.Join(lines, "; ")))
		}
	}
	return errors.Join(errs...)
}
