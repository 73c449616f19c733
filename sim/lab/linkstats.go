package lab

import (
	"context"
	"fmt"
	"syscall"
	"time"

	"github.com/c2clab/c2clab/sim/linkemu"
)

// LinkStats asks the emulator on device's link what it has done so far,
// each direction's frames, drops as its impairments asked and frames it lost
// by falling behind (linkemu.DirStats.Lost), so a step can tell a link's
// configured loss from a busy machine's. It signals the emulator and waits
// for its report in its log.
func (l *Lab) LinkStats(ctx context.Context, device string) (map[string]linkemu.DirStats, error) {
	name := device + "-linkemu"
	p := l.node(name)
	if p == nil {
		return nil, fmt.Errorf("lab: %s has no emulated link", device)
	}
	_, before, err := l.linkReports(name)
	if err != nil {
		return nil, err
	}
	pid, err := p.hostPID(ctx)
	if err != nil {
		return nil, fmt.Errorf("lab: %s: %w", name, err)
	}
	if err := syscall.Kill(pid, syscall.SIGUSR1); err != nil {
		return nil, fmt.Errorf("lab: ask %s for its counters: %w", name, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for {
		last, reports, err := l.linkReports(name)
		if err != nil {
			return nil, err
		}
		if reports >= before+2 && len(last) == 2 { // a report is a line per direction
			return last, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("lab: %s did not report its counters: %w", name, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (l *Lab) linkReports(name string) (map[string]linkemu.DirStats, int, error) {
	log, ok := l.NodeLog(name)
	if !ok {
		return nil, 0, fmt.Errorf("lab: cannot read the log of %s", name)
	}
	last, n, err := linkemu.ParseStats(log, linkemu.StatsMsg)
	if err != nil {
		return nil, 0, fmt.Errorf("lab: log of %s: %w", name, err)
	}
	return last, n, nil
}

// node is the tracked node called name, or nil.
func (l *Lab) node(name string) *proc {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, p := range l.order {
		if p.name == name {
			return p
		}
	}
	return nil
}
