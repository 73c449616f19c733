package lab

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// RestartBroker kills the broker, as a crash would, waits down, and starts
// a new one on the same addresses, with the same tenants, keys and admin
// token: the agents must find it again by themselves. The new broker's
// diagnostics start empty, as a restarted process's would.
func (l *Lab) RestartBroker(ctx context.Context, down time.Duration) error {
	l.mu.Lock()
	old := l.broker
	l.restarts++
	name := fmt.Sprintf("broker-restart%d", l.restarts)
	l.mu.Unlock()
	old.kill()
	select {
	case <-time.After(down):
	case <-ctx.Done():
		return ctx.Err()
	}
	cfg := l.brokerCfg
	var err error
	for key, dst := range map[string]*string{"control": &cfg.Control, "data": &cfg.Data, "admin": &cfg.Admin} {
		if *dst, err = old.addr(key); err != nil {
			return fmt.Errorf("lab: restart broker: %w", err)
		}
	}
	p, err := l.start(ctx, l.brokerHost, name, "broker", cfg)
	if err != nil {
		return fmt.Errorf("lab: restart broker: %w", err)
	}
	l.mu.Lock()
	l.broker = p
	l.mu.Unlock()
	return nil
}

// RSS is a node's resident memory, from /proc, in bytes.
func (l *Lab) RSS(ctx context.Context, node string) (int64, error) {
	nodes, err := l.Nodes(ctx)
	if err != nil {
		return 0, err
	}
	for _, n := range nodes {
		if n.Name == node {
			return rssOf(n.PID)
		}
	}
	return 0, fmt.Errorf("lab: no node %q", node)
}

func rssOf(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("lab: rss of %d: %w", pid, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmRSS:" && f[2] == "kB" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("lab: rss of %d: no VmRSS line", pid)
}
