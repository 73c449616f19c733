package peer

import (
	"fmt"
	"net"
	"time"

	"github.com/c2clab/c2clab/sim/wire"
)

// dataConn is the raw data connection under the end-to-end TLS handshake
// (through seal.Records). Its first Read consumes the broker's pairing
// answer, so the source's ClientHello can follow the preamble at once and
// wait in the broker's socket buffer instead of costing a round trip. Reads
// come from one goroutine at a time (the handshake, then the source's read
// of the switch record), so answered needs no lock. The sealed frames
// after the switch use the *net.TCPConn directly.
type dataConn struct {
	*net.TCPConn
	handshakeTimeout time.Duration // the deadline after the answer
	answered         bool
	err              error // why there is no pairing, once answered
}

func newDataConn(c *net.TCPConn, handshakeTimeout time.Duration) *dataConn {
	return &dataConn{TCPConn: c, handshakeTimeout: handshakeTimeout}
}

func (c *dataConn) Read(b []byte) (int, error) {
	if !c.answered {
		c.answered = true
		reason, err := wire.ReadAnswer(c.TCPConn)
		switch {
		case err != nil:
			c.err = fmt.Errorf("%w: %w", ErrNoAnswer, err)
		case reason != "":
			c.err = fmt.Errorf("%w: %w", ErrRefused, reason)
		default: // paired: the end-to-end handshake gets its own bound
			c.SetDeadline(time.Now().Add(c.handshakeTimeout))
		}
	}
	if c.err != nil {
		return 0, c.err
	}
	return c.TCPConn.Read(b)
}
