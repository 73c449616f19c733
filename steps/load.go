package steps

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cucumber/godog"
	messages "github.com/cucumber/messages/go/v21"

	"github.com/c2clab/c2clab/sim/broker"
	"github.com/c2clab/c2clab/sim/lab"
	"github.com/c2clab/c2clab/sim/measure"
)

// devicesNamed declares n devices PREFIX-1..PREFIX-n from a fixture, each
// with hostname PREFIX-i, the table's other fields applied to all.
func devicesNamed(ctx context.Context, n int, prefix, fixture string, table *godog.Table) error {
	w := getWorld(ctx)
	data, err := fs.ReadFile(w.cfg.Fixtures, "devices/"+fixture+".yaml")
	if err != nil {
		return fmt.Errorf("device fixture %q: %w", fixture, err)
	}
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("%s-%d", prefix, i)
		row := &messages.PickleTableRow{Cells: []*messages.PickleTableCell{{Value: "hostname"}, {Value: name}}}
		if err := w.addDevice(name, data, &godog.Table{Rows: append([]*messages.PickleTableRow{row}, table.Rows...)}); err != nil {
			return err
		}
	}
	return nil
}

// soak is what a load run saw.
type soak struct {
	before, after map[string]nodeUse
}

// nodeUse is a node's resident memory and open sockets. Sockets, not all
// file descriptors: Go keeps a pool of pipes for splice(2) that it frees
// at garbage collection, which is no leak.
type nodeUse struct{ rss, fds int64 }

func (w *world) nodeUses(ctx context.Context) (map[string]nodeUse, error) {
	if err := w.cfg.backend().Supports(lab.FeatureHostProcesses); err != nil {
		return nil, fmt.Errorf("%w: %w", err, godog.ErrSkip) // the nodes' memory and sockets are not the runner's to read
	}
	nodes, err := w.lab.Nodes(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]nodeUse{}
	for _, n := range nodes {
		rss, err := w.lab.RSS(ctx, n.Name)
		if err != nil {
			return nil, err
		}
		socks, err := sockets(n.PID)
		if err != nil {
			return nil, fmt.Errorf("sockets of %s: %w", n.Name, err)
		}
		out[n.Name] = nodeUse{rss: rss, fds: socks}
	}
	return out, nil
}

// sockets counts a process's open sockets.
func sockets(pid int) (int64, error) {
	fds, err := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", pid))
	if err != nil {
		return 0, err
	}
	var n int64
	for _, fd := range fds {
		if target, err := os.Readlink(fd); err == nil && strings.HasPrefix(target, "socket:") {
			n++
		}
	}
	return n, nil
}

// loadRun keeps `long` byte-checked streams flowing both ways while
// opening `rate` short checked connections a second, spread over the
// devices, for secs seconds. Every byte is checked; any failure fails.
func loadRun(ctx context.Context, from string, long, rate, secs int) error {
	w := getWorld(ctx)
	src, err := w.device(from)
	if err != nil {
		return err
	}
	if w.soak.before, err = w.nodeUses(ctx); err != nil {
		return err
	}
	var next atomic.Uint64
	dial := func(port uint16) measure.Dialer {
		return func(ctx context.Context) (net.Conn, error) {
			d := w.setup.devices[int(next.Add(1))%len(w.setup.devices)].profile
			if d.Name == from {
				d = w.setup.devices[(int(next.Add(1)))%len(w.setup.devices)].profile
			}
			return src.Dial(ctx, d.ReportedFQDN(), port)
		}
	}
	dur := time.Duration(secs) * time.Second
	var wg sync.WaitGroup
	var par measure.ParallelResult
	var perr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		par, perr = measure.Parallel(ctx, dial(9000), long, measure.ThroughputConfig{Direction: measure.Both, Duration: dur, Seed: 7})
	}()
	ol, oerr := measure.OpenLoop(ctx, dial(7), measure.OpenLoopConfig{Rate: float64(rate), Duration: dur, Timeout: 10 * time.Second})
	wg.Wait()
	note(ctx, "%d long streams both ways: %s", long, par.String())
	note(ctx, "short connections: %d started, %d ok, %d failed; setup p50 %s p99 %s", ol.Started, ol.OK, ol.Failed, ol.Setup.P50, ol.Setup.P99)
	var errs []error
	if perr != nil {
		errs = append(errs, fmt.Errorf("long streams: %w", perr))
	}
	if oerr != nil || ol.Failed > 0 {
		errs = append(errs, fmt.Errorf("short connections: %d of %d failed (%v): %v", ol.Failed, ol.Started, ol.Errors, oerr))
	}
	return errors.Join(errs...)
}

// resourcesSettle waits for every connection record to close and then
// compares each node's file descriptors and memory with before the load.
func resourcesSettle(ctx context.Context, secs, fdSlack, memMiB int) error {
	w := getWorld(ctx)
	if w.soak.before == nil {
		return errors.New("run the load first")
	}
	err := eventually(ctx, time.Duration(secs)*time.Second, 200*time.Millisecond, func() error {
		after, err := w.nodeUses(ctx)
		if err != nil {
			return err
		}
		w.soak.after = after
		return errors.Join(w.compareUses(fdSlack, memMiB)...)
	})
	for name, a := range w.soak.after {
		b := w.soak.before[name]
		note(ctx, "%-22s sockets %d -> %d, memory %.1f -> %.1f MiB", name, b.fds, a.fds, float64(b.rss)/mib, float64(a.rss)/mib)
	}
	return err
}

func (w *world) compareUses(fdSlack, memMiB int) []error {
	var errs []error
	for name, a := range w.soak.after {
		b, ok := w.soak.before[name]
		if !ok {
			continue
		}
		if a.fds > b.fds+int64(fdSlack) {
			errs = append(errs, fmt.Errorf("%s holds %d sockets, %d before the load (want at most %d more)", name, a.fds, b.fds, fdSlack))
		}
		if a.rss > b.rss+int64(memMiB)*mib {
			errs = append(errs, fmt.Errorf("%s grew from %.1f to %.1f MiB (want less than %d MiB more)", name, float64(b.rss)/mib, float64(a.rss)/mib, memMiB))
		}
	}
	return errs
}

// everyActivityClosed checks that the broker holds no record Open or
// Active: every relay was let go.
func everyActivityClosed(ctx context.Context, secs int) error {
	w := getWorld(ctx)
	var recs []broker.Activity
	err := eventually(ctx, time.Duration(secs)*time.Second, 100*time.Millisecond, func() error {
		var err error
		if recs, err = w.lab.Activity(ctx); err != nil {
			return err
		}
		open := 0
		for _, r := range recs {
			if r.Status != "Closed" {
				open++
			}
		}
		if open > 0 {
			return fmt.Errorf("%d of %d connection records are not Closed", open, len(recs))
		}
		return nil
	})
	if err != nil {
		return err
	}
	note(ctx, "all %d connection records the broker keeps are Closed", len(recs))
	return nil
}
