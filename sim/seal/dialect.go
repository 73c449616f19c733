package seal

import (
	"crypto/tls"
	"fmt"
	"net"
	"time"
)

// Dialect is a deliberately different data path. The protocol is the zero
// value; only the broken agents of the certification self-test
// (cmd/c2clab/testdata/brokenagents) set one, to prove that an agent
// wrong the same way on both ends, which talks to itself without a flaw,
// is not certified (REQUIREMENTS.md CERT-2), and that a slow one fails
// NET-3. No config file can set it.
type Dialect struct {
	// Label, if set, replaces the exporter label Label.
	Label string
	// SwapDirections keys each direction with the other half of the
	// exporter output: the TLS client sends with the server-to-client key
	// and IV.
	SwapDirections bool
	// LengthFirst writes the frame header as the 24-bit length, then the
	// flags byte.
	LengthFirst bool
	// SeqLeft XORs the frame number into the first 8 bytes of the IV
	// instead of the last 8.
	SeqLeft bool
	// FrameDelay sleeps before each frame is sent: an agent that relays
	// correctly but slowly.
	FrameDelay time.Duration
}

func (d Dialect) label() string {
	if d.Label != "" {
		return d.Label
	}
	return Label
}

// Derive is the package's Derive in dialect d.
func (d Dialect) Derive(cs *tls.ConnectionState, client bool) (send, recv Keys, err error) {
	if cs.Version != tls.VersionTLS13 {
		return send, recv, fmt.Errorf("derive frame keys: TLS version %#04x, want TLS 1.3", cs.Version)
	}
	m, err := cs.ExportKeyingMaterial(d.label(), nil, ExportLen)
	if err != nil {
		return send, recv, fmt.Errorf("derive frame keys: %w", err)
	}
	c2s, s2c := SplitExport(m)
	if d.SwapDirections {
		c2s, s2c = s2c, c2s
	}
	if client {
		return c2s, s2c, nil
	}
	return s2c, c2s, nil
}

// SplitExport splits the ExportLen bytes of exporter output into the keys
// of the two directions: client-to-server key and IV, then
// server-to-client key and IV.
func SplitExport(m []byte) (c2s, s2c Keys) {
	copy(c2s.Key[:], m)
	copy(c2s.IV[:], m[KeyLen:])
	copy(s2c.Key[:], m[KeyLen+IVLen:])
	copy(s2c.IV[:], m[2*KeyLen+IVLen:])
	return c2s, s2c
}

// Server is the package's Server in dialect d.
func (d Dialect) Server(t *tls.Conn, raw net.Conn) (*Conn, error) {
	cs := t.ConnectionState()
	send, recv, err := d.Derive(&cs, false)
	if err != nil {
		return nil, err
	}
	if _, err := t.Write([]byte(SwitchRecord)); err != nil {
		return nil, fmt.Errorf("send switch record: %w", err)
	}
	return d.New(raw, send, recv)
}

// Client is the package's Client in dialect d.
func (d Dialect) Client(t *tls.Conn, raw net.Conn) (*Conn, error) {
	cs := t.ConnectionState()
	send, recv, err := d.Derive(&cs, true)
	if err != nil {
		return nil, err
	}
	return d.New(&tlsTail{Conn: raw, t: t}, send, recv)
}

// New is the package's New in dialect d.
func (d Dialect) New(raw net.Conn, send, recv Keys) (*Conn, error) {
	c, err := New(raw, send, recv)
	if err != nil {
		return nil, err
	}
	c.dialect = d
	c.send.seqLeft, c.recv.seqLeft = d.SeqLeft, d.SeqLeft
	return c, nil
}

// header converts between the protocol's header and the dialect's (the
// conversion is its own inverse only for the protocol; see LengthFirst).
func (d Dialect) toWire(h []byte) {
	if d.LengthFirst {
		h[0], h[1], h[2], h[3] = h[1], h[2], h[3], h[0]
	}
}

func (d Dialect) fromWire(h []byte) [HeaderLen]byte {
	if d.LengthFirst {
		return [HeaderLen]byte{h[3], h[0], h[1], h[2]}
	}
	return [HeaderLen]byte(h)
}
