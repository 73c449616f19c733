package lab

import (
	"context"
	"fmt"
	"net"
)

// intercept points the device's machine at its agent, once the agent is
// ready: its resolver (/etc/netns/NS/resolv.conf, which `ip netns exec`
// puts in place for every program the lab runs there), and for the
// synthetic range and each client IP range a segment covers
// (interceptedPrefixes) a local route that keeps it on the machine and a
// REDIRECT of TCP to it into the agent's intercept listener. The rules and
// routes go with the namespace; netlab removes the resolv.conf with it, or
// sweeps it.
func (d *Device) intercept(ctx context.Context) error {
	p, ok := d.lab.placer.(*netnsPlacer)
	if !ok {
		return ErrInterceptNeedsNetns
	}
	h, err := p.lab.Host(d.host.name)
	if err != nil {
		return fmt.Errorf("lab: intercept %q: %w", d.Name, err)
	}
	dns, err := d.agent.addr("dns")
	if err != nil {
		return fmt.Errorf("lab: intercept %q: %w", d.Name, err)
	}
	to, err := d.agent.addr("intercept")
	if err != nil {
		return fmt.Errorf("lab: intercept %q: %w", d.Name, err)
	}
	dnsIP, _, _ := net.SplitHostPort(dns)
	_, port, _ := net.SplitHostPort(to)
	// timeout and attempts: an agent that does not answer fails a lookup
	// in about 2 s, not glibc's default 10.
	conf := fmt.Sprintf("# c2clab run %s: the agent of %s\nnameserver %s\noptions timeout:1 attempts:2\n", d.lab.ID, d.Name, dnsIP)
	if err := h.WriteEtc("resolv.conf", []byte(conf)); err != nil {
		return fmt.Errorf("lab: intercept %q: %w", d.Name, err)
	}
	prefixes, err := interceptedPrefixes(d.policy(), d.mustReach())
	if err != nil {
		return fmt.Errorf("lab: intercept %q: %w", d.Name, err)
	}
	for _, p := range prefixes {
		for _, cmd := range [][]string{
			{"ip", "route", "add", "local", p.String(), "dev", "lo"},
			{"iptables", "-w", "5", "-t", "nat", "-A", "OUTPUT", "-d", p.String(), "-p", "tcp", "-j", "REDIRECT", "--to-ports", port},
		} {
			if out, err := d.Command(ctx, cmd[0], cmd[1:]...).CombinedOutput(); err != nil {
				return fmt.Errorf("lab: intercept %q: %v: %w: %s", d.Name, cmd, err, out)
			}
		}
	}
	return nil
}
