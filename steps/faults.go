package steps

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/cucumber/godog"

	"github.com/c2clab/c2clab/sim/endpoint"
	"github.com/c2clab/c2clab/sim/lab"
)

// faultState is when the scenario's faults were injected, for the steps
// that time the recovery.
type faultState struct {
	// restartedAt is when the broker was last restarted.
	restartedAt time.Time
	// linkRestoredAt is when a device's link was last restored.
	linkRestoredAt time.Time
}

// brokerRestarts kills the broker and starts a new one on the same
// addresses after down.
func brokerRestarts(ctx context.Context, secs int) error {
	w := getWorld(ctx)
	if w.lab == nil {
		return errors.New("the lab is not running (add \"When the lab starts\")")
	}
	w.faults.restartedAt = time.Now()
	return w.lab.RestartBroker(ctx, time.Duration(secs)*time.Second)
}

// everyAgentRegisteredAgain waits until the broker's User Status shows each
// device's session connected after the restart, and notes how long each
// took: the gap the restart left.
func everyAgentRegisteredAgain(ctx context.Context, secs int) error {
	w := getWorld(ctx)
	deadline := time.Now().Add(time.Duration(secs) * time.Second)
	for _, d := range w.setup.devices {
		if !d.profile.PrivateAccessEnabled() {
			continue
		}
		at, err := waitSessionAfter(ctx, d.profile.Name, w.faults.restartedAt, deadline)
		if err != nil {
			return err
		}
		note(ctx, "%s registered again %s after the broker was killed", d.profile.Name, at.Sub(w.faults.restartedAt).Round(time.Millisecond))
	}
	return nil
}

// waitSessionAfter polls User Status for a connected session of name that
// started after t.
func waitSessionAfter(ctx context.Context, name string, t, deadline time.Time) (time.Time, error) {
	w := getWorld(ctx)
	var at time.Time
	err := eventually(ctx, time.Until(deadline), 50*time.Millisecond, func() error {
		s, err := w.userStatus(ctx, name)
		if err == nil && s.Connected && s.ConnectedAt.After(t) {
			at = s.ConnectedAt
			return nil
		}
		return fmt.Errorf("last: connected %v at %s, %v", s.Connected, s.ConnectedAt.Format(time.StampMilli), err)
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("%q has no session connected after %s: %w", name, t.Format(time.StampMilli), err)
	}
	return at, nil
}

// fetchWhileAgentKilled has the open connection's bulk service send n MiB
// and kills the device's agent after the first MiB has arrived. The fetch
// must end within secs with a short count or an error, never with a wrong
// byte: a dead peer may cut the stream, not alter it.
func fetchWhileAgentKilled(ctx context.Context, n int, name string, secs int) error {
	w := getWorld(ctx)
	a, err := openConn(ctx)
	if err != nil {
		return err
	}
	d, err := w.device(name)
	if err != nil {
		return err
	}
	tripped := make(chan struct{})
	conn := &tripConn{Conn: a.conn, after: mib, tripped: tripped}
	done := make(chan error, 1)
	seed := w.seeds.next(1)
	go func() {
		_, err := endpoint.BulkReceive(ctx, conn, int64(n)*mib, seed)
		done <- err
	}()
	select {
	case <-tripped:
	case err := <-done:
		return fmt.Errorf("the transfer ended before the agent was killed: %v", err)
	}
	killed := time.Now()
	d.KillAgent()
	select {
	case err = <-done:
	case <-time.After(time.Duration(secs) * time.Second):
		a.conn.Close()
		return fmt.Errorf("the transfer still hung %d s after the agent of %q was killed", secs, name)
	}
	note(ctx, "the transfer ended %s after the kill: %v", time.Since(killed).Round(time.Millisecond), err)
	if errors.Is(err, endpoint.ErrCorrupt) {
		return fmt.Errorf("the relay delivered a wrong byte when its destination died: %w", err)
	}
	if err == nil {
		return fmt.Errorf("all %d MiB arrived although the agent was killed after 1 MiB", n)
	}
	return nil
}

// tripConn closes tripped once after bytes have been read.
type tripConn struct {
	net.Conn
	after   int64
	read    int64
	tripped chan struct{}
}

func (c *tripConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if c.read < c.after && c.read+int64(n) >= c.after {
		close(c.tripped)
	}
	c.read += int64(n)
	return n, err
}

// activityClosed checks that the broker's User Activity record of the last
// connection is Closed: the broker let go of it.
func activityClosed(ctx context.Context, secs int) error {
	w := getWorld(ctx)
	a, err := w.lastAttempt()
	if err != nil {
		return err
	}
	err = eventually(ctx, time.Duration(secs)*time.Second, 50*time.Millisecond, func() error {
		recs, err := w.lab.Activity(ctx)
		if err != nil {
			return err
		}
		var last string
		for _, r := range recs {
			if r.FQDN == a.fqdn && int(r.Port) == int(a.port) {
				last = r.Status
			}
		}
		if last != "Closed" {
			return fmt.Errorf("it is %q, want Closed", last)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("the broker's record of the connection to %s:%d: %w", a.fqdn, a.port, err)
	}
	note(ctx, "the broker's record of the connection to %s:%d is Closed", a.fqdn, a.port)
	return nil
}

// linkOfIs cuts or restores a device's link.
func linkOfIs(ctx context.Context, name, state string) error {
	w := getWorld(ctx)
	d, err := w.device(name)
	if err != nil {
		return err
	}
	if err := w.cfg.backend().Supports(lab.FeatureLinkCut); err != nil {
		return fmt.Errorf("%w: %w", err, godog.ErrSkip)
	}
	if state == "restored" {
		w.faults.linkRestoredAt = time.Now()
	}
	return d.SetLinkUp(state == "restored")
}

// registeredAgainWithin waits for a new session of name since its link
// was restored: on a busy machine the agent may register again before
// this step begins, and that session counts.
func registeredAgainWithin(ctx context.Context, name string, secs int) error {
	start := getWorld(ctx).faults.linkRestoredAt
	if start.IsZero() {
		return fmt.Errorf("restore the link of %q first", name)
	}
	at, err := waitSessionAfter(ctx, name, start.Add(-time.Millisecond), start.Add(time.Duration(secs)*time.Second))
	if err != nil {
		return err
	}
	note(ctx, "%s registered again %s after its link came back", name, at.Sub(start).Round(time.Millisecond))
	return nil
}

// stalledReaderKeepsMemoryFlat opens a generate transfer of n MiB and
// reads nothing for secs while sampling the resident memory of the broker
// and both agents; then it reads everything, checking every byte. Memory
// may grow by socket buffers, not by the stream: the relay must push back.
func stalledReaderKeepsMemoryFlat(ctx context.Context, n, secs, limitMiB int, from, to string) error {
	w := getWorld(ctx)
	a, err := openConn(ctx)
	if err != nil {
		return err
	}
	nodes := []string{"broker", from + "-agent", to + "-agent"}
	before, err := rssOf(ctx, nodes)
	if err != nil {
		return err
	}
	stall := &stallConn{Conn: a.conn, until: time.Now().Add(time.Duration(secs) * time.Second)}
	seed := w.seeds.next(1)
	done := make(chan error, 1)
	go func() { _, err := endpoint.BulkReceive(ctx, stall, int64(n)*mib, seed); done <- err }()
	time.Sleep(time.Duration(secs)*time.Second - 200*time.Millisecond)
	during, err := rssOf(ctx, nodes)
	if err != nil {
		return err
	}
	if err := <-done; err != nil {
		return fmt.Errorf("after the stall: %w", err)
	}
	var errs []error
	var lines []string
	for i, node := range nodes {
		grew := during[i] - before[i]
		lines = append(lines, fmt.Sprintf("%s %+.1f MiB", node, float64(grew)/mib))
		if grew > int64(limitMiB)*mib {
			errs = append(errs, fmt.Errorf("%s grew by %.1f MiB while the reader stalled, want less than %d", node, float64(grew)/mib, limitMiB))
		}
	}
	note(ctx, "resident memory while the reader stalled %d s: %s; then %d MiB arrived intact", secs, strings.Join(lines, ", "), n)
	return errors.Join(errs...)
}

func rssOf(ctx context.Context, nodes []string) ([]int64, error) {
	if err := getWorld(ctx).cfg.backend().Supports(lab.FeatureHostProcesses); err != nil {
		return nil, fmt.Errorf("%w: %w", err, godog.ErrSkip) // the nodes' memory is not the runner's to read
	}
	out := make([]int64, len(nodes))
	for i, n := range nodes {
		v, err := getWorld(ctx).lab.RSS(ctx, n)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// stallConn blocks its first Read until a time: a client that stops reading.
type stallConn struct {
	net.Conn
	until time.Time
}

func (c *stallConn) Read(p []byte) (int, error) {
	if d := time.Until(c.until); d > 0 {
		time.Sleep(d)
	}
	return c.Conn.Read(p)
}

// certificateClockAhead declares that the device's certificate comes from a
// CA whose clock runs minutes ahead of the broker's.
func certificateClockAhead(ctx context.Context, name string, minutes int) error {
	d, ok := getWorld(ctx).setup.declared(name)
	if !ok {
		return fmt.Errorf("no device %q declared before its certificate", name)
	}
	d.skew = time.Duration(minutes) * time.Minute
	return nil
}

// notRegisteredBecause checks that the device's agent never got a session:
// either it refused to start with reason, or it runs unregistered and a
// node (the broker) logged reason.
func notRegisteredBecause(ctx context.Context, name, reason string) error {
	w := getWorld(ctx)
	if err, ok := w.setup.startErrs[name]; ok && err != nil {
		if !strings.Contains(err.Error(), reason) {
			return fmt.Errorf("the agent of %q did not start, but not because %q: %w", name, reason, err)
		}
		note(ctx, "the agent of %s refused to start: %s", name, firstLine(err.Error()))
		return nil
	}
	d, err := w.device(name)
	if err != nil {
		return err
	}
	time.Sleep(500 * time.Millisecond) // a few of its attempts
	st, err := d.Status(ctx)
	if err != nil {
		return err
	}
	if st.Connected {
		return fmt.Errorf("%q registered, want it refused", name)
	}
	if !strings.Contains(w.lab.Logs(200), reason) {
		return fmt.Errorf("no node logged %q", reason)
	}
	note(ctx, "%s is not connected; a node logged %q", name, reason)
	return nil
}

// sessionEndsWithin waits until the broker's User Status shows name
// disconnected, and notes how long that took.
func sessionEndsWithin(ctx context.Context, name string, secs int) error {
	w := getWorld(ctx)
	start := time.Now()
	err := eventually(ctx, time.Duration(secs)*time.Second, 50*time.Millisecond, func() error {
		s, err := w.userStatus(ctx, name)
		if err == nil && s.Connected {
			err = errors.New("still connected")
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("the broker still shows %q connected: %w", name, err)
	}
	note(ctx, "the broker ended the session of %s %s after the cut", name, time.Since(start).Round(time.Millisecond))
	return nil
}
