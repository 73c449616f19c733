package steps

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
	"time"

	"github.com/c2clab/c2clab/sim/lab"
)

// resolveTimeout bounds one getent lookup; the lab's resolv.conf gives up
// on a silent agent after about 2 s.
const resolveTimeout = 10 * time.Second

// resolvesThroughAgent declares that the device's machine resolves names
// through its agent's DNS and sends connections to the synthetic addresses
// to its agent (lab.DeviceOptions.Intercept). Only the netns backend can
// change a machine's resolver and firewall: elsewhere the scenario skips.
func resolvesThroughAgent(ctx context.Context, name string) (context.Context, error) {
	w := getWorld(ctx)
	if err := w.cfg.backend().Supports(lab.FeatureIntercept); err != nil {
		return skip(ctx, err.Error())
	}
	d, ok := w.setup.declared(name)
	if !ok {
		return ctx, fmt.Errorf("no device %q declared before its interception", name)
	}
	d.intercept = true
	return ctx, nil
}

// ncSendsByName runs `nc -N FQDN PORT` on the admin's machine: plain
// netcat, no proxy, so the name reaches the agent only through the
// machine's resolver.
func ncSendsByName(ctx context.Context, from, text, target string) (context.Context, error) {
	return runNC(ctx, from, text, target, false)
}

// getent runs `getent hosts NAME` on the device's machine, the lookup
// every libc client makes, and returns its output and error.
func getent(ctx context.Context, from, name string) (string, error) {
	d, err := getWorld(ctx).device(from)
	if err != nil {
		return "", err
	}
	cctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	out, err := d.Command(cctx, "getent", "hosts", name).Output()
	return string(out), err
}

func resolvesInto(ctx context.Context, from, name, prefix string) error {
	want, err := netip.ParsePrefix(prefix)
	if err != nil {
		return fmt.Errorf("prefix %q: %w", prefix, err)
	}
	out, err := getent(ctx, from, name)
	if err != nil {
		return fmt.Errorf("getent hosts %s on %q: %w (printed %q)", name, from, err, out)
	}
	note(ctx, "getent hosts %s on %s: %s", name, from, strings.TrimSpace(out))
	fields := strings.Fields(out)
	if len(fields) < 2 || !strings.EqualFold(fields[1], name) {
		return fmt.Errorf("getent hosts %s printed %q, want \"ADDRESS %s\"", name, out, name)
	}
	a, err := netip.ParseAddr(fields[0])
	if err != nil || !want.Contains(a) {
		return fmt.Errorf("getent hosts %s printed %q: want an address in %s", name, out, want)
	}
	return nil
}

// doesNotResolve: getent exits 2 when the name is not found.
func doesNotResolve(ctx context.Context, from, name string) error {
	out, err := getent(ctx, from, name)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		return fmt.Errorf("getent hosts %s on %q: %v, printed %q; want exit status 2 (not found)", name, from, err, out)
	}
	note(ctx, "getent hosts %s on %s: not found", name, from)
	return nil
}
