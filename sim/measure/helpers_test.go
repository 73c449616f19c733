package measure

import (
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/c2clab/c2clab/sim/device"
	"github.com/c2clab/c2clab/sim/endpoint"
)

// services runs a bulk and an echo service on loopback until the test ends
// and returns their addresses.
func services(t testing.TB) (bulk, echo string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan map[string]string, 1)
	done := make(chan error, 1)
	cfg := endpoint.Config{Services: []device.Service{{Kind: endpoint.KindBulk}, {Kind: endpoint.KindEcho}}}
	go func() { done <- endpoint.Run(ctx, cfg, func(a map[string]string) { ready <- a }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("services: %v", err)
		}
	})
	select {
	case a := <-ready:
		return a["bulk:0"], a["echo:0"]
	case err := <-done:
		t.Fatalf("services: %v", err)
	}
	return "", ""
}

// dialer dials addr over TCP.
func dialer(addr string) Dialer {
	return func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", addr)
	}
}

// dial connects to addr for the rest of the test.
func dial(t testing.TB, addr string) net.Conn {
	t.Helper()
	c, err := dialer(addr)(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// hook forwards b, the piece of one direction of a proxied connection that
// starts at offset off of that direction, to dst; it may change or delay it.
type hook func(dst io.Writer, b []byte, off int64) error

// flipAt flips a bit of the byte at offset at.
func flipAt(at int64) hook {
	return func(dst io.Writer, b []byte, off int64) error {
		if at >= off && at < off+int64(len(b)) {
			b[at-off] ^= 0x10
		}
		_, err := dst.Write(b)
		return err
	}
}

// stallAt holds back the bytes from offset at on for d, once, and reports
// when it let them go on released (buffered, 1).
func stallAt(at int64, d time.Duration, released chan<- time.Time) hook {
	return func(dst io.Writer, b []byte, off int64) error {
		if at < off || at >= off+int64(len(b)) {
			_, err := dst.Write(b)
			return err
		}
		if _, err := dst.Write(b[:at-off]); err != nil {
			return err
		}
		time.Sleep(d)
		released <- time.Now()
		_, err := dst.Write(b[at-off:])
		return err
	}
}

// proxy relays every connection it accepts to upstream; hooks gives the
// hooks of connection i (nil: forward unchanged).
func proxy(t testing.TB, upstream string, hooks func(i int) (c2s, s2c hook)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex // guards conns
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for i := 0; ; i++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", upstream)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, u)
			mu.Unlock()
			c2s, s2c := hooks(i)
			wg.Go(func() { pipe(u.(*net.TCPConn), c, c2s) })
			wg.Go(func() { pipe(c.(*net.TCPConn), u, s2c) })
		}
	})
	return ln.Addr().String()
}

// pipe copies src to dst through h until src ends, then half-closes dst.
func pipe(dst *net.TCPConn, src net.Conn, h hook) {
	defer dst.CloseWrite()
	if h == nil {
		io.Copy(dst, src)
		return
	}
	buf := make([]byte, 64<<10)
	var off int64
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if h(dst, buf[:n], off) != nil {
				return
			}
			off += int64(n)
		}
		if err != nil {
			return
		}
	}
}

// only applies h to connection 0.
func only(c2s, s2c hook) func(int) (hook, hook) {
	return func(i int) (hook, hook) {
		if i == 0 {
			return c2s, s2c
		}
		return nil, nil
	}
}
