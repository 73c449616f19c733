package peer

import (
	"fmt"
	"net"

	"github.com/c2clab/c2clab/sim/wire"
)

// dataConn is the raw data connection under the end-to-end TLS session. Its
// first Read consumes the broker's pairing answer, so the source's
// ClientHello can follow the preamble at once and wait in the broker's
// socket buffer instead of costing a round trip. Reads come from one
// goroutine at a time (the handshake, then Pipe), so answered needs no lock.
type dataConn struct {
	*net.TCPConn
	answered bool
	err      error // the pairing refusal, once answered
}

func newDataConn(c *net.TCPConn) *dataConn { return &dataConn{TCPConn: c} }

func (c *dataConn) Read(b []byte) (int, error) {
	if !c.answered {
		c.answered = true
		reason, err := wire.ReadAnswer(c.TCPConn)
		if err == nil && reason != "" {
			err = fmt.Errorf("%w: %w", ErrRefused, reason)
		}
		c.err = err
	}
	if c.err != nil {
		return 0, c.err
	}
	return c.TCPConn.Read(b)
}
