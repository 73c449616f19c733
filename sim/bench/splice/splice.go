// Package splice is the benchmark's reference relay: a plain TCP forwarder
// with no protocol, no TLS and no policy. c2clab bench runs it on the
// broker's machine, so the relay and its reference take the same hops;
// io.Copy between two *net.TCPConn lets the kernel splice, which is the
// best a user-space relay can do.
package splice

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
)

// Config is a forwarder: every connection accepted on Listen is joined to
// a new connection to To.
type Config struct {
	// Listen is "IP:PORT"; port 0 picks a free one.
	Listen string `json:"listen"`
	// To is the "IP:PORT" connections are forwarded to.
	To string `json:"to"`
}

// Run forwards until ctx ends, reporting its address as "relay" to ready.
func Run(ctx context.Context, cfg Config, ready func(map[string]string)) error {
	if cfg.To == "" {
		return errors.New("splice: config has no \"to\" address")
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("splice: listen: %w", err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	ready(map[string]string{"relay": ln.Addr().String()})
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("splice: accept: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			forward(ctx, c.(*net.TCPConn), cfg.To)
		}()
	}
}

// forward joins c to a new connection to to, both ways, half-closing each
// side when its source ends.
func forward(ctx context.Context, c *net.TCPConn, to string) {
	defer c.Close()
	var d net.Dialer
	o, err := d.DialContext(ctx, "tcp", to)
	if err != nil {
		return
	}
	out := o.(*net.TCPConn)
	defer out.Close()
	stop := context.AfterFunc(ctx, func() { c.Close(); out.Close() })
	defer stop()
	done := make(chan struct{})
	go func() { pipe(out, c); close(done) }()
	pipe(c, out)
	<-done
}

func pipe(dst, src *net.TCPConn) {
	if _, err := io.Copy(dst, src); err != nil { // ReadFrom: splice(2) on Linux
		src.Close()
		dst.Close()
		return
	}
	dst.CloseWrite()
}
