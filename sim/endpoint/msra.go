package endpoint

import (
	"context"
	"fmt"
	"io"
	"net"
)

// serveMSRA serves the port a Remote Assistance invitation names (RA-1).
// Remote Assistance carries RDP: after the TCP connection the expert's
// side sends an X.224 Connection Request, and the novice's side answers as
// an RDP server does. The service answers that request exactly as the RDP
// service would (Connection Confirm with RDP_NEG_RSP or RDP_NEG_FAILURE,
// per Config.RDP) and drops the rest, so a scenario can tell it reached a
// listener that speaks RDP on the invitation's port. Anything that does not
// start like a TPKT is read and dropped, without an answer, because the
// novice never speaks first.
func (s *server) serveMSRA(ctx context.Context, c net.Conn) error {
	first := make([]byte, 1)
	if err := readIdle(c, first, s.cfg.IdleTimeout); err != nil {
		if err == io.EOF {
			return nil
		}
		return fmt.Errorf("msra: %w", err)
	}
	if first[0] != tpktVersion {
		if err := discard(c, s.cfg.IdleTimeout); err != nil {
			return fmt.Errorf("msra: %w", err)
		}
		return nil
	}
	if err := s.serveRDP(ctx, &prefixConn{Conn: c, prefix: first}); err != nil {
		return fmt.Errorf("msra: %w", err)
	}
	return nil
}

// prefixConn is a connection whose first bytes were already read.
type prefixConn struct {
	net.Conn
	prefix []byte // owned by the handler's goroutine
}

func (p *prefixConn) Read(b []byte) (int, error) {
	if len(p.prefix) > 0 {
		n := copy(b, p.prefix)
		p.prefix = p.prefix[n:]
		return n, nil
	}
	return p.Conn.Read(b)
}
