package labcheck

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/c2clab/c2clab/sim/agent"
	"github.com/c2clab/c2clab/sim/broker"
	"github.com/c2clab/c2clab/sim/check"
	"github.com/c2clab/c2clab/sim/device"
	"github.com/c2clab/c2clab/sim/lab"
)

// askTimeout bounds one question in the lab: setup through the broker
// and the destination's dial of its local service (agent.LocalDialTimeout).
const askTimeout = 15 * time.Second

// runner holds the lab's devices of the current group.
type runner struct {
	lab      *lab.Lab
	tenant   string
	group    int
	names    []string       // lab names of the running devices, in start order
	byDevice []*lab.Device  // the running devices, by index in the group's Devices
	src      *lab.Device    // the current group's source
	seen     map[string]int // activity entries seen so far, by source device
}

// start starts q's devices, in order, then its source unless it is one of
// them. Devices run under lab names of their own (g<group>d<index>), so
// that profile names, which may repeat or hold spaces, never clash.
func (r *runner) start(ctx context.Context, q check.Question) error {
	r.group++
	r.byDevice = make([]*lab.Device, len(q.Devices))
	for i, p := range q.Devices {
		d, err := r.add(ctx, p, fmt.Sprintf("g%dd%d", r.group, i))
		if err != nil {
			return err
		}
		r.byDevice[i] = d
	}
	if sourceIn(q) >= 0 {
		return nil
	}
	d, err := r.add(ctx, source(q), fmt.Sprintf("g%dsrc", r.group))
	r.src = d
	return err
}

// use makes q's source the one that connects: the group's own source, or
// the device that is q's source.
func (r *runner) use(q check.Question) {
	if i := sourceIn(q); i >= 0 {
		r.src = r.byDevice[i]
	}
}

func (r *runner) add(ctx context.Context, p *device.Profile, name string) (*lab.Device, error) {
	q := *p
	q.Name = name
	d, err := r.lab.AddDevice(ctx, r.tenant, &q)
	if err != nil {
		return nil, fmt.Errorf("labcheck: device %q: %w", p.Name, err)
	}
	r.names = append(r.names, name)
	return d, nil
}

// removeAll stops the group's devices and waits until the broker has ended
// their sessions, so the next group's devices find every FQDN free.
func (r *runner) removeAll(ctx context.Context) error {
	gone := map[string]bool{}
	for _, n := range r.names {
		if err := r.lab.RemoveDevice(n); err != nil {
			return err
		}
		gone[n] = true
	}
	r.names, r.src, r.byDevice = nil, nil, nil
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		sts, err := r.lab.UserStatus(ctx)
		connected := ""
		for _, st := range sts {
			if gone[st.Device] && st.Connected {
				connected = st.Device
			}
		}
		if err == nil && connected == "" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("labcheck: the broker still shows %q connected after its agent stopped (last error: %v)", connected, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// ask asks the lab the question of res, which check has answered, and
// compares the two answers.
func (r *runner) ask(ctx context.Context, res *Result) {
	got, err := r.observe(ctx, res.answer.FQDN, res.answer.Port)
	if err != nil {
		res.Error = err.Error()
		return
	}
	res.Lab = &got
	res.Differences = Compare(res.Check, got)
}

// observe connects through the source's agent, as an unmodified SOCKS5
// client on the source device would, and reads what its agent and the
// broker recorded of the attempt.
func (r *runner) observe(ctx context.Context, fqdn string, port uint16) (Outcome, error) {
	ctx, cancel := context.WithTimeout(ctx, askTimeout)
	defer cancel()
	var o Outcome
	conn, dialErr := r.src.Dial(ctx, fqdn, port)
	var refused *lab.SOCKSError
	switch {
	case dialErr == nil:
		conn.Close()
	case !errors.As(dialErr, &refused):
		return o, fmt.Errorf("lab: connect to %s:%d: %w", fqdn, port, dialErr)
	}
	rec, err := r.record(ctx, fqdn, port)
	if err != nil {
		return o, err
	}
	o.Allowed, o.Code, o.Local = dialErr == nil && rec.Code == "", rec.Code, rec.Local
	act, reached, err := r.activity(ctx)
	if err != nil {
		return o, err
	}
	if reached == rec.Local {
		return o, fmt.Errorf("lab: the source agent says local=%v for %s:%d, but the broker logged it: %v", rec.Local, fqdn, port, reached)
	}
	if reached {
		o.Segment, o.Rule, o.AccessType = act.Segment, act.Rule, act.AccessType
	}
	return o, nil
}

// record is the source agent's record of the last connection to fqdn:port.
func (r *runner) record(ctx context.Context, fqdn string, port uint16) (agent.ConnRecord, error) {
	st, err := r.src.Status(ctx)
	if err != nil {
		return agent.ConnRecord{}, fmt.Errorf("lab: source status: %w", err)
	}
	for i := len(st.Connections) - 1; i >= 0; i-- {
		c := st.Connections[i]
		if c.Role == agent.RoleSource && strings.EqualFold(c.FQDN, fqdn) && c.Port == int(port) {
			return c, nil
		}
	}
	return agent.ConnRecord{}, fmt.Errorf("lab: the source agent has no record of its connection to %s:%d", fqdn, port)
}

// activity is the broker's User Activity entry of the source's last
// connection, and whether there is a new one at all.
func (r *runner) activity(ctx context.Context) (broker.Activity, bool, error) {
	acts, err := r.lab.Activity(ctx)
	if err != nil {
		return broker.Activity{}, false, fmt.Errorf("lab: user activity: %w", err)
	}
	var mine []broker.Activity
	for _, a := range acts {
		if a.Source == r.src.Name {
			mine = append(mine, a)
		}
	}
	before := r.seen[r.src.Name]
	r.seen[r.src.Name] = len(mine)
	switch len(mine) - before {
	case 0:
		return broker.Activity{}, false, nil
	case 1:
		return mine[len(mine)-1], true, nil
	}
	return broker.Activity{}, false, fmt.Errorf("lab: the broker logged %d connections of %s for one attempt", len(mine)-before, r.src.Name)
}
