package seal

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"io"
	"net"
)

// SwitchRecord is the application data of the one TLS record the TLS
// server sends after its handshake (and after its NewSessionTicket
// messages): the last TLS bytes from server to client. The client's last
// TLS bytes are its Finished message. Frames follow in both directions.
const SwitchRecord = "c2c/1 frames"

// recordHeaderLen is the TLS record header: type, version, length.
const recordHeaderLen = 5

// Records wraps the connection under a TLS stack so that the stack never
// reads past the end of a TLS record: the frames that follow the last
// record stay in the socket for the Conn. It costs a second read per
// record, during the handshake only.
func Records(c net.Conn) net.Conn { return &records{Conn: c} }

type records struct {
	net.Conn
	// Read by the TLS stack's reader only, one at a time.
	hdr  [recordHeaderLen]byte
	nhdr int // bytes of the next record's header read so far
	left int // bytes of the current record's body not read yet
}

func (r *records) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	if r.left > 0 {
		n, err := r.Conn.Read(b[:min(len(b), r.left)])
		r.left -= n
		return n, err
	}
	n, err := r.Conn.Read(b[:min(len(b), recordHeaderLen-r.nhdr)])
	copy(r.hdr[r.nhdr:], b[:n])
	r.nhdr += n
	if r.nhdr == recordHeaderLen {
		r.left, r.nhdr = int(binary.BigEndian.Uint16(r.hdr[3:])), 0
	}
	return n, err
}

// Server switches the TLS server's side of t to frames on raw, the
// connection under t (without Records): it sends SwitchRecord through t.
// t's handshake must be complete and nothing read from t yet.
func Server(t *tls.Conn, raw net.Conn) (*Conn, error) { return Dialect{}.Server(t, raw) }

// Client switches the TLS client's side of t to frames on raw, the
// connection under t (without Records). Frames may be sent at once; the
// first Read first reads, through t, what the server sent after its
// handshake up to SwitchRecord, so that its session tickets reach t's
// session cache and the server's verdict on the client certificate (a TLS
// alert) reaches the reader.
func Client(t *tls.Conn, raw net.Conn) (*Conn, error) { return Dialect{}.Client(t, raw) }

// tlsTail is raw with the TLS client's tail in front of its first Read.
type tlsTail struct {
	net.Conn
	t        *tls.Conn
	switched bool // owned by the Conn's reader (under rmu)
}

func (c *tlsTail) Read(b []byte) (int, error) {
	if !c.switched {
		if err := readSwitch(c.t); err != nil {
			return 0, err
		}
		c.switched = true
	}
	return c.Conn.Read(b)
}

// CloseWrite half-closes raw, if it can.
func (c *tlsTail) CloseWrite() error {
	if hc, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return hc.CloseWrite()
	}
	return nil
}

// readSwitch reads TLS application data up to and including SwitchRecord
// and fails if it is anything else.
func readSwitch(t *tls.Conn) error {
	buf := make([]byte, len(SwitchRecord)+1)
	n, err := io.ReadAtLeast(t, buf, len(SwitchRecord))
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return fmt.Errorf("read switch record: %w: TLS ended before it", ErrTruncated)
	case err != nil:
		return fmt.Errorf("read switch record: %w", err)
	case !bytes.Equal(buf[:n], []byte(SwitchRecord)):
		return fmt.Errorf("read switch record: %w: got %q, want %q", ErrMalformed, buf[:n], SwitchRecord)
	}
	return nil
}
