package agent

import (
	"context"
	"fmt"
	"net"
	"strconv"
)

// startInterception opens the agent's DNS (UDP) and intercept (TCP)
// listeners when the config asks for them, names them "dns" and
// "intercept" in addrs, and serves them until ctx ends. The DNS hands out
// synthetic addresses for the names the segments cover; the intercept
// listener takes connections the host redirected there, to those
// addresses or to a segment's IPs and CIDRs, and tunnels each.
func (a *agent) startInterception(ctx context.Context, addrs map[string]string) error {
	if a.cfg.DNS == "" && a.cfg.Intercept == "" {
		return nil
	}
	if a.cfg.DNS == "" {
		return fmt.Errorf("agent %q: intercept %q: needs DNS set: only addresses its DNS handed out map back to names", a.cfg.Name, a.cfg.Intercept)
	}
	pool := newSynthPool(SyntheticRange, 0)
	var lc net.ListenConfig
	pc, err := lc.ListenPacket(ctx, "udp", a.cfg.DNS)
	if err != nil {
		return fmt.Errorf("agent %q: listen dns: %w", a.cfg.Name, err)
	}
	context.AfterFunc(ctx, func() { pc.Close() })
	addrs["dns"] = pc.LocalAddr().String()
	srv := &dnsServer{pool: pool, log: a.log, covers: func(name string) bool {
		return a.sourceSide().Covers(name)
	}}
	a.goRun(func() { srv.serve(pc) })
	if a.cfg.Intercept == "" {
		return nil
	}
	if err := interceptSupported(); err != nil {
		return fmt.Errorf("agent %q: intercept: %w", a.cfg.Name, err)
	}
	l, err := lc.Listen(ctx, "tcp", a.cfg.Intercept)
	if err != nil {
		return fmt.Errorf("agent %q: listen intercept: %w", a.cfg.Name, err)
	}
	context.AfterFunc(ctx, func() { l.Close() })
	addrs["intercept"] = l.Addr().String()
	a.goRun(func() { a.accept(l, func(c *net.TCPConn) { a.handleIntercept(c, pool) }) })
	return nil
}

// handleIntercept tunnels one redirected connection the way a forward
// does: to the name its original destination stands for when the agent's
// DNS handed that address out, otherwise to the address itself, which a
// segment's IP or CIDR domainNames may cover (a device's client IP,
// SEG-9). Whether it is carried is decided where a SOCKS request's is
// (open, conform.Source.Intercept), with the same codes and records; a
// connection not redirected at all (its original destination unreadable)
// is closed.
func (a *agent) handleIntercept(c *net.TCPConn, pool *synthPool) {
	dst, err := originalDst(c)
	if err != nil {
		a.log.Info("intercepted connection refused", "remote", c.RemoteAddr().String(), "reason", err)
		c.Close()
		return
	}
	host, ok := pool.name(dst.Addr())
	if !ok {
		host = dst.Addr().Unmap().String()
	}
	a.handleForward(c, net.JoinHostPort(host, strconv.Itoa(int(dst.Port()))))
}
