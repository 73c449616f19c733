package lab

import (
	"context"
	"maps"
	"net/netip"
	"os/exec"
)

// This file is what c2clab bench needs to place its reference paths (a
// plain splice relay, socat) where the broker runs, so that they take the
// same hops as the relay.

// BrokerIP is the broker machine's address.
func (l *Lab) BrokerIP() netip.Addr { return l.brokerHost.addr }

// StartOnBroker runs a node of role (e.g. "splice") on the broker's
// machine, stopped with the lab, and returns the addresses it reported.
func (l *Lab) StartOnBroker(ctx context.Context, name, role string, cfg any) (map[string]string, error) {
	p, err := l.start(ctx, l.brokerHost, name, role, cfg)
	if err != nil {
		return nil, err
	}
	return maps.Clone(p.ready.Addrs), nil
}

// BrokerCommand runs a program on the broker's machine (its network
// namespace on the netns backend, as is on loopback); the caller starts
// and stops it. Not for the container backend, whose image holds only the
// c2clab binary.
func (l *Lab) BrokerCommand(ctx context.Context, name string, args ...string) *exec.Cmd {
	full := l.brokerHost.command(append([]string{name}, args...))
	return exec.CommandContext(ctx, full[0], full[1:]...)
}
