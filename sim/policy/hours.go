package policy

import (
	"fmt"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // approvals name IANA zones; FROM scratch images have no zoneinfo
)

// hours is a WorkingHours parsed once, when the engine is built.
type hours struct {
	days     [7]bool // by time.Weekday
	from, to int     // minutes since local midnight
	zone     *time.Location
}

var weekdays = []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}

// parseHours checks h and returns it parsed; the error names the field.
func parseHours(h *WorkingHours) (*hours, string, error) {
	var out hours
	if len(h.Days) == 0 {
		return nil, "days", fmt.Errorf("is empty; want the days the approval holds, of %s", strings.Join(weekdays, ", "))
	}
	for _, d := range h.Days {
		i := slices.Index(weekdays, strings.ToUpper(strings.TrimSpace(d)))
		if i < 0 {
			return nil, "days", fmt.Errorf("has %q; want %s", d, strings.Join(weekdays, ", "))
		}
		out.days[i] = true
	}
	var err error
	if out.from, err = minutes(h.From); err != nil {
		return nil, "startTime", err
	}
	if out.to, err = minutes(h.To); err != nil {
		return nil, "endTime", err
	}
	if out.zone, err = time.LoadLocation(strings.TrimSpace(h.TimeZone)); err != nil || h.TimeZone == "" {
		return nil, "timeZone", fmt.Errorf("is %q; want an IANA time zone such as Europe/Berlin", h.TimeZone)
	}
	return &out, "", nil
}

// minutes reads "HH:MM".
func minutes(s string) (int, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("is %q; want a time of day as HH:MM", s)
	}
	return t.Hour()*60 + t.Minute(), nil
}

// contains reports whether t falls in the working hours. Hours that run
// past midnight belong to the day they start on.
func (h *hours) contains(t time.Time) bool {
	l := t.In(h.zone)
	m := l.Hour()*60 + l.Minute()
	day := l.Weekday()
	if h.from < h.to {
		return h.days[day] && m >= h.from && m < h.to
	}
	return (h.days[day] && m >= h.from) || (h.days[(day+6)%7] && m < h.to)
}

func (h *WorkingHours) String() string {
	return strings.Join(h.Days, ",") + " " + h.From + "-" + h.To + " " + h.TimeZone
}
