package policy

import (
	"fmt"
	"strings"
	"time"

	"github.com/c2clab/c2clab/sim/code"
)

// compileApprovals checks the approvals: each names at least one user and
// one segment of this tenant and a time range.
func (e *Engine) compileApprovals() []error {
	var errs []error
	e.hours = make([]*hours, len(e.cfg.Approvals))
	ids := make(map[string]bool, len(e.cfg.Segments))
	for i := range e.cfg.Segments {
		ids[e.cfg.Segments[i].ID] = true
	}
	for i := range e.cfg.Approvals {
		a := &e.cfg.Approvals[i]
		bad := func(field, msg string) {
			errs = append(errs, &ConfigError{Segment: -1, Rule: -1, Field: fmt.Sprintf("approvals[%d].%s", i, field), Msg: msg})
		}
		if len(a.Emails) == 0 {
			bad("emailIds", "is empty; want the email of the user the approval is for")
		}
		if len(a.Segments) == 0 {
			bad("applications", "is empty; want the id of at least one application segment")
		}
		for j, s := range a.Segments {
			if !ids[s] {
				bad(fmt.Sprintf("applications[%d].id", j), fmt.Sprintf("%q is no application segment of this tenant", s))
			}
		}
		if a.Hours != nil {
			h, field, err := parseHours(a.Hours)
			if err != nil {
				bad("workingHours."+field, err.Error())
			}
			e.hours[i] = h
		}
		switch {
		case a.Start.IsZero() || a.End.IsZero():
			bad("endTime", "startTime and endTime are both needed; an approval is time-bound")
		case !a.End.After(a.Start):
			bad("endTime", fmt.Sprintf("%s is not after startTime %s", a.End.UTC().Format(time.RFC3339), a.Start.UTC().Format(time.RFC3339)))
		}
	}
	return errs
}

// approvalStep is POL-5: a matching REQUIRE_APPROVAL rule allows only while
// an approval for this user and segment is in force.
func (e *Engine) approvalStep(d *Decision, seg *segment, req *Request) bool {
	if req.Time.IsZero() {
		setUndecided(d, d.Rule, string(RequireApproval), "the time of the request, to see whether an approval is in force")
		return false
	}
	var near *Approval
	for i := range e.cfg.Approvals {
		a := &e.cfg.Approvals[i]
		if !a.covers(req.User, seg.s.ID) {
			continue
		}
		if !req.Time.Before(a.Start) && req.Time.Before(a.End) && (e.hours[i] == nil || e.hours[i].contains(req.Time)) {
			d.Trace = append(d.Trace, "approval "+quote(a.ID)+" for "+quote(req.User)+" on "+seg.name+" is in force ("+a.span()+")")
			return true
		}
		near = a
	}
	line := "no approval for " + quote(req.User) + " on " + seg.name + " is in force at " + req.Time.UTC().Format(time.RFC3339)
	if near != nil {
		line += " (approval " + quote(near.ID) + " is for " + near.span() + ")"
	}
	d.refuse(code.BrkApprovalRequired, line)
	return false
}

func (a *Approval) covers(user, segID string) bool {
	found := false
	for _, m := range a.Emails {
		found = found || strings.EqualFold(m, user)
	}
	if !found {
		return false
	}
	for _, s := range a.Segments {
		if s == segID {
			return true
		}
	}
	return false
}

func (a *Approval) span() string {
	s := a.Start.UTC().Format(time.RFC3339) + " to " + a.End.UTC().Format(time.RFC3339)
	if a.Hours != nil {
		s += ", working hours " + a.Hours.String()
	}
	return s
}
