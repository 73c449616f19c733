package endpoint

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"
	"time"
)

// aLongTimeAgo is a deadline in the past: setting it makes pending I/O on a
// connection return at once.
var aLongTimeAgo = time.Unix(1, 0)

// watch makes blocking I/O on c return when ctx ends, by moving c's deadline
// into the past. Call stop when done; it reports whether ctx had not fired.
func watch(ctx context.Context, c net.Conn) (stop func() bool) {
	return context.AfterFunc(ctx, func() { c.SetDeadline(aLongTimeAgo) })
}

// ctxErr returns ctx's error when ctx has ended (the I/O error is then only
// its consequence), otherwise err.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return err
}

// readIdle reads exactly len(b) bytes from c, failing if the client sends
// nothing for idle.
func readIdle(c net.Conn, b []byte, idle time.Duration) error {
	if err := c.SetReadDeadline(time.Now().Add(idle)); err != nil {
		return err
	}
	_, err := io.ReadFull(c, b)
	return err
}

// discard reads and drops everything c sends until EOF, an error, or idle
// without data.
func discard(c net.Conn, idle time.Duration) error {
	buf := make([]byte, 32<<10)
	for {
		if err := c.SetReadDeadline(time.Now().Add(idle)); err != nil {
			return err
		}
		if _, err := c.Read(buf); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

// isReset reports a connection reset by the peer, which is how a drop looks
// when the peer closed with unread data.
func isReset(err error) bool { return errors.Is(err, syscall.ECONNRESET) }
