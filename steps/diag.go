package steps

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cucumber/godog"

	"github.com/c2clab/c2clab/sim/broker"
	"github.com/c2clab/c2clab/sim/code"
)

// logTimeout bounds how long the broker may take to close an activity
// record after both sides closed.
const logTimeout = 5 * time.Second

func (w *world) userStatus(ctx context.Context, name string) (broker.UserStatus, error) {
	if _, err := w.device(name); err != nil {
		return broker.UserStatus{}, err
	}
	all, err := w.lab.UserStatus(ctx)
	if err != nil {
		return broker.UserStatus{}, err
	}
	var found []broker.UserStatus
	for _, s := range all {
		if s.Device == name {
			found = append(found, s)
		}
	}
	if len(found) == 0 {
		return broker.UserStatus{}, fmt.Errorf("the broker's User Status has no session of %q", name)
	}
	return found[len(found)-1], nil
}

func userStatusRegistered(ctx context.Context, name, registered, want string) error {
	s, err := getWorld(ctx).userStatus(ctx, name)
	if err != nil {
		return err
	}
	note(ctx, "user status of %s: FQDNRegistered %t, FQDNRegisteredError %s", name, s.FQDNRegistered, s.FQDNRegisteredError)
	var errs []error
	if strconv.FormatBool(s.FQDNRegistered) != registered {
		errs = append(errs, fmt.Errorf("FQDNRegistered is %t, want %s", s.FQDNRegistered, registered))
	}
	if s.FQDNRegisteredError != code.Code(want) {
		errs = append(errs, fmt.Errorf("FQDNRegisteredError is %q, want %q", s.FQDNRegisteredError, want))
	}
	if len(errs) > 0 {
		errs = append(errs, fmt.Errorf("trace: %s", strings.Join(s.Trace, "; ")))
	}
	return errors.Join(errs...)
}

func userStatusValidHostname(ctx context.Context, name, want string) error {
	s, err := getWorld(ctx).userStatus(ctx, name)
	if err != nil {
		return err
	}
	var errs []error
	if strconv.FormatBool(s.ValidHostname) != want {
		errs = append(errs, fmt.Errorf("Valid Hostname is %t, want %s", s.ValidHostname, want))
	}
	if s.ValidHostname != s.FQDNRegistered {
		errs = append(errs, fmt.Errorf("Valid Hostname %t disagrees with FQDNRegistered %t", s.ValidHostname, s.FQDNRegistered))
	}
	return errors.Join(errs...)
}

func userStatusAvailable(ctx context.Context, name string) error {
	s, err := getWorld(ctx).userStatus(ctx, name)
	if err != nil {
		return err
	}
	note(ctx, "user status of %s: available %t, Client-To-Client Enrolled %t, code %q", name, s.Available, s.ClientToClientEnrolled, s.Code)
	if !s.Available || !s.ClientToClientEnrolled || s.Code != "" {
		return fmt.Errorf("%q: available %t, Client-To-Client Enrolled %t, code %q; want available, enrolled, no code", name, s.Available, s.ClientToClientEnrolled, s.Code)
	}
	return nil
}

func userStatusUnavailable(ctx context.Context, name, want string) error {
	s, err := getWorld(ctx).userStatus(ctx, name)
	if err != nil {
		return err
	}
	note(ctx, "user status of %s: available %t, code %q", name, s.Available, s.Code)
	if s.Available || s.Code != code.Code(want) {
		return fmt.Errorf("%q: available %t with code %q, want unavailable with %q (trace: %s)", name, s.Available, s.Code, want, strings.Join(s.Trace, "; "))
	}
	return nil
}

func agentShowsClient(ctx context.Context, name, fqdn string) error {
	d, err := getWorld(ctx).device(name)
	if err != nil {
		return err
	}
	st, err := d.Status(ctx)
	if err != nil {
		return err
	}
	note(ctx, "agent of %s shows Client %q", name, st.Client)
	if st.Client != fqdn {
		return fmt.Errorf("agent of %q shows Client %q, want %q", name, st.Client, fqdn)
	}
	return nil
}

func agentShowsNoClient(ctx context.Context, name string) error {
	d, err := getWorld(ctx).device(name)
	if err != nil {
		return err
	}
	st, err := d.Status(ctx)
	if err != nil {
		return err
	}
	note(ctx, "agent of %s shows Client %q", name, st.Client)
	if st.Client != "" {
		return fmt.Errorf("agent of %q shows Client %q, want none", name, st.Client)
	}
	return nil
}

func agentStopsAnswering(ctx context.Context, name string) (context.Context, error) {
	w := getWorld(ctx)
	d, err := w.device(name)
	if err != nil {
		return ctx, err
	}
	return ctx, d.FreezeAgent()
}

func notConnected(ctx context.Context, name string) error {
	w := getWorld(ctx)
	d, err := w.device(name)
	if err != nil {
		return err
	}
	st, err := d.Status(ctx)
	if err != nil {
		return err
	}
	var errs []error
	if st.Connected {
		errs = append(errs, fmt.Errorf("agent of %q says it is connected", name))
	}
	all, err := w.lab.UserStatus(ctx)
	if err != nil {
		return err
	}
	for _, s := range all {
		if s.Device == name {
			errs = append(errs, fmt.Errorf("the broker has a session of %q", name))
		}
	}
	return errors.Join(errs...)
}

// activityRecord waits for the record of the last attempt to reach the
// wanted status ("" = any) and returns it.
func (w *world) activityRecord(ctx context.Context, status string) (broker.Activity, error) {
	a, err := w.lastAttempt()
	if err != nil {
		return broker.Activity{}, err
	}
	var rec *broker.Activity
	err = eventually(ctx, logTimeout, 10*time.Millisecond, func() error {
		acts, err := w.lab.Activity(ctx)
		if err != nil {
			return err
		}
		rec = nil
		for i := min(a.activityN, len(acts)); i < len(acts); i++ {
			if acts[i].FQDN == a.fqdn && acts[i].Port == int(a.port) && acts[i].Source == a.from.Name {
				rec = &acts[i]
			}
		}
		switch {
		case rec == nil:
			return fmt.Errorf("the User Activity log has no record of %s's connection to %s:%d", a.from.Name, a.fqdn, a.port)
		case status != "" && rec.Status != status:
			return fmt.Errorf("the User Activity record of %s:%d is %q, want %q", a.fqdn, a.port, rec.Status, status)
		}
		return nil
	})
	if rec == nil {
		return broker.Activity{}, err
	}
	return *rec, err
}

// activityRecordHas compares the named fields of the record (LOG-1, LOG-2)
// and checks the fields every record must have.
func activityRecordHas(ctx context.Context, table *godog.Table) error {
	w := getWorld(ctx)
	want := map[string]string{}
	for _, row := range table.Rows {
		if len(row.Cells) != 2 {
			return errors.New("want rows of | field | value |")
		}
		want[row.Cells[0].Value] = row.Cells[1].Value
	}
	rec, err := w.activityRecord(ctx, want["status"])
	if err != nil {
		return err
	}
	got := activityFields(rec)
	var errs []error
	for f, v := range want {
		g, ok := got[f]
		if !ok {
			return fmt.Errorf("no activity field %q (have %v)", f, keys(got))
		}
		if g != v {
			errs = append(errs, fmt.Errorf("%s is %q, want %q", f, g, v))
		}
	}
	errs = append(errs, checkTimes(rec)...)
	if len(errs) > 0 {
		errs = append(errs, fmt.Errorf("record: %+v", rec))
	}
	return errors.Join(errs...)
}

func activityFields(r broker.Activity) map[string]string {
	return map[string]string{
		"accessType": r.AccessType, "user": r.User, "source": r.Source, "destination": r.Destination,
		"fqdn": r.FQDN, "port": strconv.Itoa(r.Port), "segment": r.Segment, "rule": r.Rule,
		"action": r.Action, "status": r.Status, "internalReason": string(r.Code), "undecided": r.Undecided,
	}
}

// checkTimes holds for every record: a start in microseconds, and an end
// not before it once the record is closed.
func checkTimes(r broker.Activity) []error {
	var errs []error
	now := time.Now().UnixMicro()
	if r.StartUs <= 0 || r.StartUs > now || r.StartUs < now-int64(time.Hour/time.Microsecond) {
		errs = append(errs, fmt.Errorf("start %d is not a recent timestamp in microseconds", r.StartUs))
	}
	if r.Status == "Closed" && r.EndUs < r.StartUs {
		errs = append(errs, fmt.Errorf("end %d is before start %d", r.EndUs, r.StartUs))
	}
	return errs
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func activityCountsBytes(ctx context.Context, n int) error {
	rec, err := getWorld(ctx).activityRecord(ctx, "Closed")
	if err != nil {
		return err
	}
	// The broker relays the agents' end-to-end encrypted stream, so it
	// counts ciphertext: the payload plus the bulk header, the TLS
	// handshake and record framing (about 0.2%). The count must cover the
	// payload and stay within 2% + 64 KiB of it: a relay that lost or
	// invented data would leave that band.
	payload := int64(n) * mib
	if limit := payload + payload/50 + 64*1024; rec.BytesFromClient < payload || rec.BytesFromClient > limit {
		return fmt.Errorf("bytes from client %d, want %d to %d (payload plus encryption framing)", rec.BytesFromClient, payload, limit)
	}
	if rec.BytesToClient <= 0 {
		return fmt.Errorf("bytes to client %d, want the service's verdict counted", rec.BytesToClient)
	}
	return nil
}

func brokerLoggedNothing(ctx context.Context) error {
	w := getWorld(ctx)
	a, err := w.lastAttempt()
	if err != nil {
		return err
	}
	acts, err := w.lab.Activity(ctx)
	if err != nil {
		return err
	}
	// The broker keeps a bounded log; clamp in case it dropped old records.
	for _, r := range acts[min(a.activityN, len(acts)):] {
		if r.FQDN == a.fqdn && r.Port == int(a.port) {
			return fmt.Errorf("the broker logged %+v; want nothing", r)
		}
	}
	return nil
}
