package netlab

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// The run's FORWARD rule accepts lab-to-lab traffic only. It is needed where
// br_netfilter passes bridged frames through iptables and the FORWARD policy
// is DROP (any host running Docker); elsewhere it is harmless.
func fwRuleSpec(runID string) []string {
	return []string{
		"FORWARD", "-s", labRange.String(), "-d", labRange.String(),
		"-m", "comment", "--comment", fwComment(runID), "-j", "ACCEPT",
	}
}

// fwAdd inserts the run's rule; without iptables there is nothing to open.
func fwAdd(ctx context.Context, runID string) (added bool, err error) {
	if _, err := exec.LookPath("iptables"); err != nil {
		return false, nil
	}
	if err := iptables(ctx, append([]string{"-I"}, fwRuleSpec(runID)...)...); err != nil {
		return false, fmt.Errorf("firewall: %w", err)
	}
	return true, nil
}

// fwDelete removes every FORWARD rule carrying the comment of a run for which
// match is true, and returns their run IDs.
func fwDelete(ctx context.Context, match func(runID string) bool) ([]string, error) {
	ids, err := fwRunIDs(ctx)
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, runID := range ids {
		if !match(runID) {
			continue
		}
		if err := iptables(ctx, append([]string{"-D"}, fwRuleSpec(runID)...)...); err != nil {
			return removed, fmt.Errorf("firewall: %w", err)
		}
		removed = append(removed, runID)
	}
	return removed, nil
}

// fwRunIDs lists the run IDs of the lab's rules in the FORWARD chain, one
// per rule; a machine without iptables has none.
func fwRunIDs(ctx context.Context) ([]string, error) {
	if _, err := exec.LookPath("iptables"); err != nil {
		return nil, nil
	}
	out, err := exec.CommandContext(ctx, "iptables", "-w", "5", "-S", "FORWARD").Output()
	if err != nil {
		return nil, fmt.Errorf("firewall: iptables -S: %w", err)
	}
	var ids []string
	for _, line := range strings.Split(string(out), "\n") {
		if id := fwRuleRunID(line); id != "" {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

func iptables(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, "iptables", append([]string{"-w", "5"}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("iptables %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(out.Bytes()))
	}
	return nil
}
