package tenant

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/c2clab/c2clab/sim/policy"
)

// approvals converts approvals: (POL-5), spelled as ZPA's /approval API
// returns them (help.zscaler.com/zpa/configuring-privileged-approvals-using-api):
// emailIds, applications[].id, startTime and endTime (epoch seconds, or
// RFC 3339 when written by hand), and workingHours (days, startTime and
// endTime in timeZone), which narrows the approval to those hours.
func (l *loader) approvals() []policy.Approval {
	var out []policy.Approval
	for i, a := range l.f.Approvals {
		field := fmt.Sprintf("approvals[%d]", i)
		pa := policy.Approval{ID: strings.TrimSpace(a.ID), Emails: clone(a.EmailIDs)}
		if pa.ID == "" {
			pa.ID = strconv.Itoa(i)
		}
		for _, app := range a.Applications.Value {
			pa.Segments = append(pa.Segments, strings.TrimSpace(app.ID))
		}
		var err error
		if pa.Start, err = parseTime(a.StartTime); err != nil {
			l.errorf(field+".startTime", "is %q, want epoch seconds (as ZPA returns it) or an RFC 3339 time", a.StartTime)
		}
		if pa.End, err = parseTime(a.EndTime); err != nil {
			l.errorf(field+".endTime", "is %q, want epoch seconds (as ZPA returns it) or an RFC 3339 time", a.EndTime)
		}
		if h := a.WorkingHours.Value; h != nil {
			pa.Hours = &policy.WorkingHours{Days: clone(h.Days), From: h.StartTime, To: h.EndTime, TimeZone: h.TimeZone}
		}
		out = append(out, pa)
	}
	return out
}

// parseTime reads epoch seconds or RFC 3339; "" is the zero time.
func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), nil
	}
	return time.Parse(time.RFC3339, s)
}

// c2cIPRanges converts c2cIpRanges (SEG-9): CIDR strings, or the items of
// ZPA's GET .../v2/ipRanges as they are (subnetCidr, or ipRangeBegin and
// ipRangeEnd when they form one prefix).
func (l *loader) c2cIPRanges() []netip.Prefix {
	var out []netip.Prefix
	for i, r := range l.f.C2CIPRanges {
		field := fmt.Sprintf("c2cIpRanges[%d]", i)
		p, err := r.prefix()
		if err != nil {
			l.errorf(field, "%s; want a CIDR such as 100.64.1.0/24 or {subnetCidr: 100.64.1.0/24}", err.Error())
			continue
		}
		out = append(out, p)
	}
	return out
}
