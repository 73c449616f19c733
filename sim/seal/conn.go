package seal

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// Conn is a net.Conn whose bytes travel as sealed frames over raw. A Read
// and a Write may run at the same time; Reads (and Writes) are serialised
// among themselves. Every Write, and every Read of ReadFrom's source, goes
// out as a frame at once: nothing waits to be batched.
//
// Close does not send end-of-stream: to end the stream cleanly call
// CloseWrite first; a peer that sees the connection close without it fails
// with ErrTruncated.
type Conn struct {
	raw     net.Conn
	dialect Dialect // the protocol unless a broken agent's (see Dialect)

	wmu  sync.Mutex // held while sealing or writing; guards the fields below
	send direction
	wbuf []byte // header, plaintext, tag of the frame being sent (see initialBuf)
	wend bool   // end-of-stream sent
	werr error  // sticky: a failed write leaves the peer mid-frame

	rmu   sync.Mutex // held while reading or opening; guards the fields below
	recv  direction
	rbuf  []byte // raw bytes read; frames are opened in place (see initialBuf)
	r0    int    // rbuf[r0:r1] are raw bytes not yet parsed
	r1    int    //
	plain []byte // opened plaintext not yet returned, inside rbuf
	rerr  error  // sticky: io.EOF after end-of-stream, or why the stream failed
}

// initialBuf is the size of each direction's buffer until a frame needs
// more; then it grows to the largest frame. Connections that carry little
// (most remote-assistance setups) so never allocate and zero 2 x 256 KiB
// per side, which cost about a third of a millisecond of setup time.
const initialBuf = 16 << 10

// New returns a Conn over raw that seals what it sends with send and opens
// what it receives with recv. raw should also have CloseWrite (a
// *net.TCPConn does) so that CloseWrite can half-close it.
func New(raw net.Conn, send, recv Keys) (*Conn, error) {
	s, err := newDirection(send)
	if err != nil {
		return nil, err
	}
	r, err := newDirection(recv)
	if err != nil {
		return nil, err
	}
	return &Conn{raw: raw, send: s, recv: r}, nil
}

// Write seals p in frames of at most MaxPayload bytes, one Write on raw each.
func (c *Conn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	var n int
	for len(p) > 0 {
		k := min(len(p), MaxPayload)
		if err := c.writable(); err != nil {
			return n, err
		}
		if HeaderLen+k+TagLen > len(c.wbuf) {
			c.wbuf = make([]byte, maxFrame)
		}
		if err := c.writeFrame(0, p[:k]); err != nil {
			return n, err
		}
		n += k
		p = p[k:]
	}
	return n, nil
}

// ReadFrom reads r until io.EOF and sends each Read's bytes as one frame,
// read straight into the frame buffer and sealed in place. Once a Read
// fills the buffer, the buffer grows to the largest frame. It holds the
// write lock while it waits for r. It does not send end-of-stream.
func (c *Conn) ReadFrom(r io.Reader) (int64, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.writable(); err != nil {
		return 0, err
	}
	var n int64
	for {
		room := c.wbuf[HeaderLen : len(c.wbuf)-TagLen]
		k, rerr := r.Read(room)
		if k > 0 {
			if err := c.writeFrame(0, room[:k]); err != nil {
				return n, err
			}
			n += int64(k)
		}
		if k == len(room) && len(c.wbuf) < maxFrame { // a bulk sender
			c.wbuf = make([]byte, maxFrame)
		}
		switch {
		case rerr == io.EOF:
			return n, nil
		case rerr != nil:
			return n, rerr
		}
	}
}

// CloseWrite sends the end-of-stream frame and half-closes raw, if it can.
func (c *Conn) CloseWrite() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.writeFrame(FlagEnd, nil); err != nil {
		return err
	}
	c.wend = true
	if hc, ok := c.raw.(interface{ CloseWrite() error }); ok {
		return hc.CloseWrite()
	}
	return nil
}

// writable checks that frames may be sent and makes the buffer. wmu held.
func (c *Conn) writable() error {
	switch {
	case c.werr != nil:
		return c.werr
	case c.wend:
		return fmt.Errorf("seal: %w", ErrWriteClosed)
	case c.wbuf == nil:
		c.wbuf = make([]byte, initialBuf)
	}
	return nil
}

// writeFrame seals p (which may be wbuf's own plaintext area) into wbuf,
// which must have room for it, and writes the frame. wmu held.
func (c *Conn) writeFrame(flags byte, p []byte) error {
	if err := c.writable(); err != nil {
		return err
	}
	nonce, err := c.send.nonce()
	if err != nil {
		c.werr = fmt.Errorf("seal: %w", err)
		return c.werr
	}
	putHeader(c.wbuf, flags, len(p))
	c.dialect.toWire(c.wbuf[:HeaderLen])
	if c.dialect.FrameDelay > 0 {
		time.Sleep(c.dialect.FrameDelay)
	}
	// Seal into wbuf after the header: in place when p is already there.
	sealed := c.send.aead.Seal(c.wbuf[HeaderLen:HeaderLen], nonce[:], p, c.wbuf[:HeaderLen])
	if _, err := c.raw.Write(c.wbuf[:HeaderLen+len(sealed)]); err != nil {
		c.werr = fmt.Errorf("seal: write frame %d: %w", c.send.seq-1, err)
		return c.werr
	}
	return nil
}

// Read returns plaintext of authenticated frames only, and io.EOF after the
// authenticated end-of-stream.
func (c *Conn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if len(c.plain) == 0 {
		if err := c.next(); err != nil {
			return 0, err
		}
	}
	n := copy(p, c.plain)
	c.plain = c.plain[n:]
	return n, nil
}

// WriteTo writes the plaintext of each frame to w straight from the buffer
// it was opened in, until end-of-stream (then it returns nil) or an error.
func (c *Conn) WriteTo(w io.Writer) (int64, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	var n int64
	for {
		if len(c.plain) == 0 {
			if err := c.next(); err == io.EOF {
				return n, nil
			} else if err != nil {
				return n, err
			}
		}
		k, err := w.Write(c.plain)
		n += int64(k)
		c.plain = c.plain[k:]
		if err != nil {
			return n, err
		}
	}
}

// next reads and opens frames until one has plaintext, and leaves it in
// c.plain. rmu held.
func (c *Conn) next() error {
	for c.rerr == nil {
		if err := c.fill(HeaderLen); err != nil {
			return c.fail(err)
		}
		hdr := c.dialect.fromWire(c.rbuf[c.r0 : c.r0+HeaderLen])
		flags, n, err := parseHeader(hdr[:])
		if err != nil {
			return c.fail(err)
		}
		if err := c.fill(HeaderLen + n + TagLen); err != nil {
			return c.fail(err)
		}
		frame := c.rbuf[c.r0 : c.r0+HeaderLen+n+TagLen]
		nonce, err := c.recv.nonce()
		if err != nil {
			return c.fail(err)
		}
		plain, err := c.recv.aead.Open(frame[HeaderLen:HeaderLen], nonce[:], frame[HeaderLen:], frame[:HeaderLen])
		if err != nil {
			return c.fail(fmt.Errorf("frame %d: %w", c.recv.seq-1, ErrAuth))
		}
		c.r0 += len(frame)
		if flags&FlagEnd != 0 {
			c.rerr = io.EOF
			break
		}
		if len(plain) > 0 {
			c.plain = plain
			return nil
		}
	}
	return c.rerr
}

// fail makes err the stream's sticky error, except a deadline: the buffer
// is intact, so a later Read may go on. rmu held.
func (c *Conn) fail(err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return err
	}
	c.rerr = fmt.Errorf("seal: %w", err)
	return c.rerr
}

// fill makes sure rbuf[r0:] holds at least n raw bytes, reading as many as
// fit so that a burst of small frames costs one read. rmu held.
func (c *Conn) fill(n int) error {
	if c.rbuf == nil {
		c.rbuf = make([]byte, initialBuf)
	}
	if c.r0 == c.r1 {
		c.r0, c.r1 = 0, 0
	}
	switch {
	case n > len(c.rbuf): // a frame larger than the buffer: grow it for good
		b := make([]byte, maxFrame)
		c.r1, c.r0, c.rbuf = copy(b, c.rbuf[c.r0:c.r1]), 0, b
	case c.r0+n > len(c.rbuf): // the frame would run past the end: move its start to the front
		c.r1, c.r0 = copy(c.rbuf, c.rbuf[c.r0:c.r1]), 0
	}
	for c.r1-c.r0 < n {
		k, err := c.raw.Read(c.rbuf[c.r1:])
		c.r1 += k
		switch {
		case err == nil || c.r1-c.r0 >= n:
		case err == io.EOF && c.r1 == c.r0 && n == HeaderLen:
			return fmt.Errorf("%w: connection closed before frame %d", ErrTruncated, c.recv.seq)
		case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
			return fmt.Errorf("%w: connection closed inside frame %d (%d of %d bytes)", ErrTruncated, c.recv.seq, c.r1-c.r0, n)
		default:
			return fmt.Errorf("read frame %d: %w", c.recv.seq, err)
		}
	}
	return nil
}

// Close closes raw at once; see the type's doc for a clean end.
func (c *Conn) Close() error { return c.raw.Close() }

// LocalAddr is raw's.
func (c *Conn) LocalAddr() net.Addr { return c.raw.LocalAddr() }

// RemoteAddr is raw's.
func (c *Conn) RemoteAddr() net.Addr { return c.raw.RemoteAddr() }

// SetDeadline sets raw's deadlines. A write that times out ends the
// stream; a read that times out may be retried.
func (c *Conn) SetDeadline(t time.Time) error { return c.raw.SetDeadline(t) }

// SetReadDeadline sets raw's read deadline.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.raw.SetReadDeadline(t) }

// SetWriteDeadline sets raw's write deadline.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.raw.SetWriteDeadline(t) }
