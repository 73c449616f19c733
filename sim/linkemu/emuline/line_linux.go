package emuline

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// Interface names inside the namespaces; namespaces are separate, so
// these fixed names never collide between lines.
const (
	IfaceA   = "a0"   // EMU side of the A link
	IfaceB   = "b0"   // EMU side of the B link
	HostLink = "eth0" // the link in A and in B
)

// Addresses of the hosts; private to their namespaces.
var (
	AddrA = netip.MustParseAddr("198.18.250.1")
	AddrB = netip.MustParseAddr("198.18.250.2")
)

const prefixLen = 24

// netnsDir is where ip(8) keeps named namespaces.
const netnsDir = "/var/run/netns"

// Line is one A–EMU–B line. Its namespaces carry the caller's prefix, so
// a sweep can find the leftovers of a crashed run.
type Line struct {
	A, Emu, B string // namespace names

	closeOnce sync.Once
	closeErr  error
}

// New creates the namespaces, veth pairs and addresses. prefix must be
// unique per line (carry a run ID); on failure New removes what it made.
func New(ctx context.Context, prefix string) (l *Line, err error) {
	l = &Line{A: prefix + "-a", Emu: prefix + "-e", B: prefix + "-b"}
	defer func() {
		if err != nil {
			l.Close()
		}
	}()
	for _, args := range l.script() {
		if err := ip(ctx, args...); err != nil {
			return nil, fmt.Errorf("emuline %q: %w", prefix, err)
		}
	}
	return l, nil
}

// script lists the ip(8) commands that build the line.
func (l *Line) script() [][]string {
	cidr := func(a netip.Addr) string { return netip.PrefixFrom(a, prefixLen).String() }
	return [][]string{
		{"netns", "add", l.A}, {"netns", "add", l.Emu}, {"netns", "add", l.B},
		{"-n", l.Emu, "link", "add", IfaceA, "type", "veth", "peer", "name", HostLink, "netns", l.A},
		{"-n", l.Emu, "link", "add", IfaceB, "type", "veth", "peer", "name", HostLink, "netns", l.B},
		{"-n", l.A, "addr", "add", cidr(AddrA), "dev", HostLink},
		{"-n", l.B, "addr", "add", cidr(AddrB), "dev", HostLink},
		{"-n", l.A, "link", "set", "lo", "up"}, {"-n", l.B, "link", "set", "lo", "up"},
		{"-n", l.A, "link", "set", HostLink, "up"}, {"-n", l.B, "link", "set", HostLink, "up"},
		{"-n", l.Emu, "link", "set", IfaceA, "up"}, {"-n", l.Emu, "link", "set", IfaceB, "up"},
	}
}

// Path returns the namespace file of ns, for setns or linkemu.Config.Netns.
func Path(ns string) string { return filepath.Join(netnsDir, ns) }

// Close deletes the namespaces, which removes the veths in them. It is
// idempotent and ignores namespaces that are already gone.
func (l *Line) Close() error {
	l.closeOnce.Do(func() {
		var errs []error
		for _, ns := range []string{l.B, l.Emu, l.A} {
			err := ip(context.Background(), "netns", "del", ns)
			if err != nil && !strings.Contains(err.Error(), "No such file") {
				errs = append(errs, err)
			}
		}
		l.closeErr = errors.Join(errs...)
	})
	return l.closeErr
}

func ip(ctx context.Context, args ...string) error {
	out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %s: %w", strings.Join(args, " "), strings.TrimSpace(string(out)), err)
	}
	return nil
}

// Do runs f on an OS thread inside namespace ns. Sockets f opens stay in
// ns after Do returns and may be used from any goroutine. The thread is
// discarded afterwards rather than returned to the runtime.
func Do(ns string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		fd, err := unix.Open(Path(ns), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("netns %q: %w", ns, err)
			return
		}
		err = unix.Setns(fd, unix.CLONE_NEWNET)
		unix.Close(fd)
		if err != nil {
			errc <- fmt.Errorf("netns %q: setns: %w", ns, err)
			return
		}
		errc <- f()
	}()
	return <-errc
}
