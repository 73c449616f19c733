//go:build !linux

package lab

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"os/exec"
)

// The lab runs on Linux: it relies on 127.0.0.0/8 being all loopback, on
// Pdeathsig and on /proc. These stand-ins let the rest of the CLI (explain,
// check) build elsewhere; starting a lab fails with errNotLinux.

var errNotLinux = errors.New("lab: runs on Linux only")

func setNodeAttrs(*exec.Cmd) {}

func (r processRunner) terminate() { _ = r.cmd.Process.Signal(os.Interrupt) }

func (processRunner) freeze() error { return errNotLinux }

func killPID(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}

func newNetnsPlacer(context.Context, string, string, []byte) (placer, error) { return nil, errNotLinux }

func sweepNetwork(string) error { return nil }

func newContainerPlacer(context.Context, string, string, string) (placer, error) {
	return nil, errNotLinux
}

func sweepContainers(string) error { return nil }

func (l *Lab) Nodes(context.Context) ([]Node, error) { return nil, errNotLinux }

func containerRunIDs() ([]string, error) { return nil, nil }

func (d *Device) SetLinkUp(bool) error { return errNotLinux }

func (l *Lab) RouteThroughBroker(context.Context, *Device, *Device) error { return errNotLinux }

func (d *Device) DialFrom(ctx context.Context, addr netip.AddrPort) (net.Conn, error) {
	var nd net.Dialer
	return nd.DialContext(ctx, "tcp", addr.String())
}

func newKubePlacer(context.Context, string, KubeSpec, []byte) (placer, error) {
	return nil, errNotLinux
}
