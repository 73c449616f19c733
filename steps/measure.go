package steps

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/c2clab/c2clab/sim/endpoint"
	"github.com/c2clab/c2clab/sim/lab"
	"github.com/c2clab/c2clab/sim/linkemu"
	"github.com/c2clab/c2clab/sim/tenant"
)

// measureState holds the round trips measured per target, sorted.
type measureState struct {
	rtts map[string][]time.Duration
}

// measuresRoundTrip opens a connection through the admin's agent to an echo
// service and times n small request/response round trips; they go into
// the world under the target's name.
func measuresRoundTrip(ctx context.Context, from, target string, n int) error {
	return measuresRoundTripsByTurns(ctx, from, n, target)
}

// measuresRoundTripsInTurn times n round trips to each of two targets,
// one to a then one to b, so that whatever the machine does meanwhile
// falls on both alike. One after the other they see different moments of
// a busy machine: CI once read 5 ms of jitter as 6.87 that way, while the
// path without jitter spread by less than 1 ms.
func measuresRoundTripsInTurn(ctx context.Context, from, a, b string, n int) error {
	if a == b {
		return fmt.Errorf("round trips in turn: %q twice; want two targets", a)
	}
	return measuresRoundTripsByTurns(ctx, from, n, a, b)
}

// measuresRoundTripsByTurns opens one connection per target through the
// admin's agent and times n echoes on each, taking the targets in turn.
func measuresRoundTripsByTurns(ctx context.Context, from string, n int, targets ...string) error {
	if n < 1 {
		return fmt.Errorf("round trips to %s: want at least 1 echo", strings.Join(targets, " and "))
	}
	w := getWorld(ctx)
	d, err := w.device(from)
	if err != nil {
		return err
	}
	conns := make([]net.Conn, len(targets))
	for i, target := range targets {
		host, port, err := tenant.ParseTarget(target)
		if err != nil {
			return fmt.Errorf("target: %w", err)
		}
		if conns[i], err = d.Dial(ctx, host, port); err != nil {
			return fmt.Errorf("connect %s to %s: %w", from, target, err)
		}
		defer conns[i].Close()
		conns[i].SetDeadline(time.Now().Add(time.Duration(len(targets)) * 60 * time.Second))
	}
	rtts := make([][]time.Duration, len(targets))
	for i := 0; i < n; i++ {
		for j, c := range conns {
			rtt, err := echoOnce(c, uint64(i))
			if err != nil {
				return fmt.Errorf("round trips to %s: echo %d: %w", targets[j], i, err)
			}
			rtts[j] = append(rtts[j], rtt)
		}
	}
	if w.measure.rtts == nil {
		w.measure.rtts = map[string][]time.Duration{}
	}
	for j, target := range targets {
		slices.Sort(rtts[j])
		w.measure.rtts[target] = rtts[j]
		r := rtts[j]
		note(ctx, "round trip to %s through the relay: min %s, median %s, max %s over %d echoes", target, r[0], r[len(r)/2], r[len(r)-1], n)
	}
	return nil
}

// echoOnce times one 64-byte echo numbered i on c and checks it came back
// unchanged.
func echoOnce(c net.Conn, i uint64) (time.Duration, error) {
	msg, back := make([]byte, 64), make([]byte, 64)
	binary.BigEndian.PutUint64(msg, i)
	start := time.Now()
	if _, err := c.Write(msg); err != nil {
		return 0, err
	}
	if _, err := io.ReadFull(c, back); err != nil {
		return 0, err
	}
	if !bytes.Equal(back, msg) {
		return 0, errors.New("came back altered")
	}
	return time.Since(start), nil
}

// roundTripExceeds compares two measured minimum round trips against an expected
// difference with an explicit tolerance, printing what was measured.
func roundTripExceeds(ctx context.Context, a, b string, wantMs, tolPct int) error {
	w := getWorld(ctx)
	ra, okA := w.measure.rtts[a]
	rb, okB := w.measure.rtts[b]
	if !okA || !okB {
		return fmt.Errorf("measure the round trips to %q and %q first", a, b)
	}
	// The minimum, not the median: load on the machine only ever adds
	// delay, so the fastest round trip is the path's own.
	diff := ra[0] - rb[0]
	want := time.Duration(wantMs) * time.Millisecond
	tol := want * time.Duration(tolPct) / 100
	note(ctx, "added round trip: %s (want %s +- %s)", diff, want, tol)
	if diff < want-tol || diff > want+tol {
		return fmt.Errorf("round trip to %s is %s longer than to %s, want %s +- %d%%", a, diff, b, want, tolPct)
	}
	return nil
}

// goodputShare is the part of an Ethernet frame a full-size TCP segment
// carries as payload: a link rate counts whole frames, as tbf does.
const goodputShare = 1448.0 / 1514.0

// sentArriveAtRate streams n MiB through the open connection to a bulk
// service (every byte checked) and compares the rate with the goodput the
// link's rate allows.
func sentArriveAtRate(ctx context.Context, n, mbit, tolPct int) error {
	a, res, err := sendBulk(ctx, n)
	if err != nil {
		return err
	}
	got := mbits(res)
	want := float64(mbit) * goodputShare
	lo, hi := want*(1-float64(tolPct)/100), want*(1+float64(tolPct)/100)
	note(ctx, "%d MiB intact in %s: %.1f Mbit/s of goodput (a %d Mbit/s link allows %.1f; want +- %d%%)", n, res.Duration.Round(time.Millisecond), got, mbit, want, tolPct)
	if got < lo || got > hi {
		return fmt.Errorf("measured %.1f Mbit/s, want %.1f to %.1f", got, lo, hi)
	}
	return a.closeConn()
}

// roundTripsJittered estimates the jitter each way from the spread of the
// round trips to a, less the spread of those to b measured in the same run,
// and compares it with the configured jitter. A delay jittered uniformly by
// ±J each way makes the round trip's jitter the sum of two uniforms on
// [-J, J]: a triangular distribution whose quartiles lie (2-√2)J from its
// centre, so its interquartile range is 2(2-√2)J ≈ 1.17J.
//
// A busy machine adds its own delays, rarely but by milliseconds. Such a
// sample moves a variance a lot (runs on a loaded machine estimated 6.1
// and 6.2 ms for 5 ms that way) but a quartile hardly at all, so the step
// reads quartiles. b is a path without the jitter, ideally behind the same
// emulator with the same delay: its interquartile range is the machine's
// own spread. Spreads of independent delays add as squares (variances
// do, and a quartile range is near proportional to a deviation), so b's
// is subtracted in quadrature; subtracted as it is, it read 5 ms of
// jitter as 3.9 to 4.5. Round trips through a ±J link cannot
// exceed the fastest one by more than 4J plus what b's slowest tenth
// exceeds b's fastest by, so if more than 10% do, the link jitters more
// than configured and the step fails.
//
// When b's own interquartile range exceeds the tolerance, the machine
// spreads round trips as much as the judgement may err: the step cannot
// tell a right link from a wrong one, and skips with that reason rather
// than answer.
func roundTripsJittered(ctx context.Context, a, b string, wantMs, tolPct int) (context.Context, error) {
	w := getWorld(ctx)
	ra, okA := w.measure.rtts[a]
	rb, okB := w.measure.rtts[b]
	if !okA || !okB {
		return ctx, fmt.Errorf("measure the round trips to %q and %q first", a, b)
	}
	bound := ra[0] + time.Duration(4*wantMs)*time.Millisecond + rb[len(rb)*9/10] - rb[0]
	outside := len(ra) - sort.Search(len(ra), func(i int) bool { return ra[i] > bound })
	qa, qb := interquartileMs(ra), interquartileMs(rb)
	got := math.Sqrt(math.Max(0, qa*qa-qb*qb)) / (2 * (2 - math.Sqrt2))
	want := float64(wantMs)
	tol := want * float64(tolPct) / 100
	note(ctx, "round trip interquartile range: %.2f ms to %s (%d of %d beyond fastest + %s), %.2f ms to %s: %.2f ms of jitter each way (want %d ms +- %.2f)",
		qa, a, outside, len(ra), bound-ra[0], qb, b, got, wantMs, tol)
	if qb > tol {
		return skip(ctx, fmt.Sprintf("undecided: round trips to %s, without jitter, spread by %.2f ms (interquartile): this machine is too busy to judge %d ms of jitter to ±%.2f ms", b, qb, wantMs, tol))
	}
	var errs []error
	if outside*10 > len(ra) {
		errs = append(errs, fmt.Errorf("%d of %d round trips to %s exceed the fastest by more than ±%d ms of jitter each way allows", outside, len(ra), a, wantMs))
	}
	if got < want-tol || got > want+tol {
		errs = append(errs, fmt.Errorf("round trips to %s spread as %.2f ms of jitter each way, want %d ms +- %d%%", a, got, wantMs, tolPct))
	}
	return ctx, errors.Join(errs...)
}

// interquartileMs is the distance between the first and third quartiles of
// sorted round trips, in ms, each quartile interpolated between samples.
func interquartileMs(sorted []time.Duration) float64 {
	q := func(p float64) float64 {
		x := p * float64(len(sorted)-1)
		i := int(x)
		if i+1 >= len(sorted) {
			return float64(sorted[len(sorted)-1])
		}
		return float64(sorted[i]) + (x-float64(i))*float64(sorted[i+1]-sorted[i])
	}
	return (q(0.75) - q(0.25)) / float64(time.Millisecond)
}

// tcpCounters are a machine's TCP segment counters since its network
// namespace was made: Tcp from /proc/net/snmp, TcpExt from /proc/net/netstat.
type tcpCounters struct {
	out, retrans uint64 // OutSegs, RetransSegs
	// dsack counts retransmissions the receiver reported it had already
	// (TCPDSACKRecv): sent again because a timer fired early, not because
	// the link lost them.
	dsack uint64
}

// retransmitsBetween compares the share of TCP segments a device's machine
// retransmitted with a range: on a lossy link every lost data segment is
// sent again, so the share measures the link's loss as the relay's own
// connections met it. Outside the range it asks whether the machine, not
// the relay, made the difference: the link's emulator losing frames it was
// not asked to lose, or timers sending again what had arrived (spurious
// retransmissions). Then the answer is undecided, with the figures.
func retransmitsBetween(ctx context.Context, name string, lo, hi float64) (context.Context, error) {
	w := getWorld(ctx)
	d, err := w.device(name)
	if err != nil {
		return ctx, err
	}
	if err := getWorld(ctx).cfg.backend().Supports(lab.FeatureHostProcesses); err != nil {
		return skip(ctx, err.Error()) // its TCP counters are in its Pod's /proc
	}
	if d.Shell() == "" {
		return ctx, fmt.Errorf("%s shares the host's network stack on this backend: its TCP counters are not its own", name)
	}
	c, err := readTCPCounters(ctx, d)
	if err != nil {
		return ctx, fmt.Errorf("TCP counters of %s: %w", name, err)
	}
	share := pct(c.retrans, c.out)
	note(ctx, "%s retransmitted %d of %d TCP segments: %.2f%% (want %.2f%% to %.2f%%); %d reported duplicate by the receiver",
		name, c.retrans, c.out, share, lo, hi, c.dsack)
	if c.out < 5000 {
		return ctx, fmt.Errorf("%s sent only %d TCP segments: too few to measure a loss rate", name, c.out)
	}
	stats, err := w.lab.LinkStats(ctx, name)
	if err != nil {
		return ctx, err
	}
	note(ctx, "%s's link emulator (dropped by its loss, lost by falling behind): %s", name, linkSummary(stats))
	if share >= lo && share <= hi {
		return ctx, nil
	}
	failed := fmt.Errorf("%s retransmitted %.2f%% of its TCP segments, want %.2f%% to %.2f%% (%d reported duplicate by the receiver; its link emulator: %s)",
		name, share, lo, hi, c.dsack, linkSummary(stats))
	if share < lo {
		return ctx, failed
	}
	if why := busyLink(stats, hi); why != "" {
		return skip(ctx, fmt.Sprintf("undecided: %s retransmitted %.2f%% of its TCP segments, but %s", name, share, why))
	}
	if genuine := pct(c.retrans-min(c.dsack, c.retrans), c.out); genuine <= hi {
		return skip(ctx, fmt.Sprintf("undecided: %s retransmitted %.2f%% of its TCP segments, but the receiver already had %d of them: "+
			"without those %.2f%%; timers fired early because this machine is too busy to judge the link's loss", name, share, c.dsack, genuine))
	}
	return ctx, failed
}

// busyLink says why a link's emulator, not its configured loss, may explain
// more retransmissions than hi percent: it lost frames by falling behind
// (a busy machine), enough that the direction carrying the data lost more
// than hi percent in all. "" when it did not.
func busyLink(stats map[string]linkemu.DirStats, hi float64) string {
	var data linkemu.DirStats
	for _, st := range stats {
		if st.Frames > data.Frames {
			data = st
		}
	}
	all := pct(data.Dropped+data.Lost(), data.Frames)
	if data.Lost() == 0 || all <= hi {
		return ""
	}
	return fmt.Sprintf("the link's emulator lost %d of %d frames by falling behind (overflow %d, kernel %d, write errors %d) beside the %d its loss dropped, "+
		"%.2f%% in all: this machine is too busy to emulate the link's loss", data.Lost(), data.Frames,
		data.Overflow, data.KernelDrops, data.WriteErrors, data.Dropped, all)
}

func linkSummary(stats map[string]linkemu.DirStats) string {
	var parts []string
	for _, dir := range slices.Sorted(maps.Keys(stats)) {
		st := stats[dir]
		parts = append(parts, fmt.Sprintf("%s %d frames, %d dropped, %d lost", dir, st.Frames, st.Dropped, st.Lost()))
	}
	return strings.Join(parts, "; ")
}

func pct(n, of uint64) float64 { return 100 * float64(n) / float64(max(of, 1)) }

// readTCPCounters reads a device machine's TCP counters from its /proc.
func readTCPCounters(ctx context.Context, d *lab.Device) (tcpCounters, error) {
	var c tcpCounters
	snmp, err := d.Command(ctx, "cat", "/proc/net/snmp").Output()
	if err != nil {
		return c, err
	}
	netstat, err := d.Command(ctx, "cat", "/proc/net/netstat").Output()
	if err != nil {
		return c, err
	}
	tcp, err := parseProcNet(string(snmp), "Tcp:", "OutSegs", "RetransSegs")
	if err != nil {
		return c, fmt.Errorf("/proc/net/snmp: %w", err)
	}
	ext, err := parseProcNet(string(netstat), "TcpExt:", "TCPDSACKRecv")
	if err != nil {
		return c, fmt.Errorf("/proc/net/netstat: %w", err)
	}
	return tcpCounters{out: tcp["OutSegs"], retrans: tcp["RetransSegs"], dsack: ext["TCPDSACKRecv"]}, nil
}

// parseProcNet reads the named counters from the header and value lines of
// one protocol (prefix "Tcp:", "TcpExt:") in /proc/net/snmp or netstat.
func parseProcNet(s, prefix string, names ...string) (map[string]uint64, error) {
	var head []string
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != prefix {
			continue
		}
		if head == nil {
			head = f
			continue
		}
		got := map[string]uint64{}
		for i := 1; i < len(f) && i < len(head); i++ {
			if !slices.Contains(names, head[i]) {
				continue
			}
			v, err := strconv.ParseUint(f[i], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %q is not a count", prefix, head[i], f[i])
			}
			got[head[i]] = v
		}
		for _, n := range names {
			if _, ok := got[n]; !ok {
				return nil, fmt.Errorf("no %s in the %s lines", n, prefix)
			}
		}
		return got, nil
	}
	return nil, fmt.Errorf("no %s lines", prefix)
}

// fetchedArriveIntact has the bulk service send n MiB down the open
// connection and checks every byte.
func fetchedArriveIntact(ctx context.Context, n int) error {
	w := getWorld(ctx)
	a, err := openConn(ctx)
	if err != nil {
		return err
	}
	seed := w.seeds.next(1)
	res, err := endpoint.BulkReceive(ctx, a.conn, int64(n)*mib, seed)
	if err != nil {
		return fmt.Errorf("bulk fetch through the relay: %w", err)
	}
	note(ctx, "%d MiB fetched intact in %s: %.1f Mbit/s", n, res.Duration.Round(time.Millisecond), mbits(res))
	return nil
}
