package wire

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// Marshal encodes m as one frame: a 4-byte big-endian body length, then the
// JSON object with "type" as its first member.
func Marshal(m Message) ([]byte, error) {
	body, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("marshal %s: %w", m.Type(), err)
	}
	if len(body) < 2 || body[0] != '{' {
		return nil, fmt.Errorf("marshal %s: not a JSON object", m.Type())
	}
	head, _ := json.Marshal(struct {
		Type Type `json:"type"`
	}{m.Type()})
	var b bytes.Buffer
	b.Grow(4 + len(head) + len(body))
	b.Write([]byte{0, 0, 0, 0})
	b.Write(head[:len(head)-1]) // {"type":"x"
	if len(body) > 2 {
		b.WriteByte(',')
	}
	b.Write(body[1:])
	frame := b.Bytes()
	n := len(frame) - 4
	if n > MaxMessage {
		return nil, fmt.Errorf("marshal %s: %d bytes, more than the %d allowed", m.Type(), n, MaxMessage)
	}
	binary.BigEndian.PutUint32(frame, uint32(n))
	return frame, nil
}

// WriteMessage writes m as one frame with a single Write.
func WriteMessage(w io.Writer, m Message) error {
	frame, err := Marshal(m)
	if err != nil {
		return err
	}
	if _, err := w.Write(frame); err != nil {
		return fmt.Errorf("write %s: %w", m.Type(), err)
	}
	return nil
}

// ReadMessage reads one frame and decodes it. A bad length, bad JSON, an
// unknown type or a failed Check wrap ErrProtocol; I/O errors are returned
// as they are (io.EOF at a frame boundary means the peer closed).
func ReadMessage(r io.Reader) (Message, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 || n > MaxMessage {
		return nil, fmt.Errorf("%w: frame length %d, want 1 to %d", ErrProtocol, n, MaxMessage)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("read frame body: %w", err)
	}
	return Unmarshal(body)
}

// Unmarshal decodes one frame body (without its length prefix).
func Unmarshal(body []byte) (Message, error) {
	// A map, not a struct: encoding/json matches struct fields without
	// regard to case, and member names are case-sensitive (PROTOCOL.md
	// section 3), so {"Type":"hello"} has no type.
	var env map[string]json.RawMessage
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("%w: not a JSON object: %w", ErrProtocol, err)
	}
	raw, ok := env["type"]
	if !ok {
		return nil, fmt.Errorf("%w: message has no type", ErrProtocol)
	}
	var typ Type
	if err := json.Unmarshal(raw, &typ); err != nil {
		return nil, fmt.Errorf("%w: type is %.40q, not a string", ErrProtocol, raw)
	}
	m := newMessage(typ)
	if m == nil {
		return nil, fmt.Errorf("%w: unknown message type %q", ErrProtocol, typ)
	}
	if err := json.Unmarshal(body, m); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrProtocol, typ, err)
	}
	if err := m.Check(); err != nil {
		return nil, err
	}
	return m, nil
}

// Conn is a control channel: one reader, any number of writers. Close is
// idempotent.
type Conn struct {
	c net.Conn

	wmu sync.Mutex // held while writing a frame to c
}

// NewConn wraps an established (TLS) connection.
func NewConn(c net.Conn) *Conn { return &Conn{c: c} }

// Send writes m within WriteTimeout; safe for concurrent use.
func (c *Conn) Send(m Message) error {
	frame, err := Marshal(m)
	if err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.c.SetWriteDeadline(time.Now().Add(WriteTimeout))
	if _, err := c.c.Write(frame); err != nil {
		return fmt.Errorf("send %s: %w", m.Type(), err)
	}
	return nil
}

// Recv reads the next message, waiting at most until deadline (zero: no
// deadline). Only one goroutine may call Recv.
func (c *Conn) Recv(deadline time.Time) (Message, error) {
	c.c.SetReadDeadline(deadline)
	return ReadMessage(c.c)
}

// Close closes the underlying connection.
func (c *Conn) Close() error { return c.c.Close() }

// NetConn returns the underlying connection.
func (c *Conn) NetConn() net.Conn { return c.c }
