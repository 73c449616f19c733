package endpoint

import (
	"context"
	"fmt"
	"io"
	"net"
)

// serveEcho returns every byte until the client half-closes, then
// half-closes too. On TCP io.Copy lets the kernel splice.
func serveEcho(ctx context.Context, c net.Conn) error {
	if _, err := io.Copy(c, c); err != nil {
		return fmt.Errorf("echo: %w", err)
	}
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
