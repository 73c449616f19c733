package endpoint

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"time"
)

// The bulk service moves integrity-checked data for throughput scenarios
// (NET-3). Its protocol, on one TCP connection, is a sequence of transfers,
// each opened by the client with a 24-byte header:
//
//	offset size  field
//	0      4     magic "c2cb"
//	4      1     version, 1
//	5      1     mode: 'S' sink, 'G' generate, 'E' echo, 'T' timed sink
//	6      2     zero
//	8      8     length in bytes, big-endian
//	16     8     seed, big-endian
//
// The data for seed is the AES-128-CTR keystream (the encryption of zeros)
// under the key "c2clab-b" followed by the seed big-endian, with an all-zero
// initial counter block, truncated to its first P = 4,194,301 bytes and
// repeated: byte i of a transfer is keystream byte i mod P. P is a prime
// just under 4 MiB, so no buffer, frame or segment size divides it: a relay
// that drops, repeats or reorders data shifts it and is caught, unless the
// shift is a whole multiple of P, as well as one that flips bits. Repeating the keystream instead of running it on means neither
// side generates anything per byte: the sender writes straight from the
// table and the receiver compares against it, so the service takes little CPU
// from the relay it measures (the lab runs on 2 cores).
//
//   - Sink: the client sends length bytes of data; the server compares each
//     byte and answers a 16-byte trailer: the number of bytes received and the
//     offset of the first wrong byte (all ones if none), both big-endian. It
//     answers when all bytes are in, at EOF (with the short count), or at once
//     on the first wrong byte, then discarding the rest of the transfer.
//   - Generate: the server sends length bytes of data; the client checks.
//   - Echo: the server sends back the length bytes it receives, unchecked; the
//     client sends data and checks what comes back.
//   - Timed sink: as sink, but the trailer is 24 bytes: the two fields above
//     and then the nanoseconds, big-endian, from reading the header to
//     receiving the last byte (to the first wrong byte if there is one), on
//     the server's clock. A throughput probe sending data takes its rate from
//     the receiver this way, free of the buffers between them and of the
//     trailer's trip back; sending a first timed transfer as warm-up and the
//     measured one straight after keeps the pipe full between the two. A
//     client that half-closes its sending side ends a timed transfer early
//     as a normal end: the trailer carries the short count and the server
//     answers and then sees EOF. That is how a probe sends for a duration
//     rather than a size (it gives the largest length it might send).
//
// There is no hash: comparing with the expected data already checks every
// byte exactly, and SHA-256 would cost more than the rest together.

const (
	bulkHeaderLen       = 24
	bulkTrailerLen      = 16
	bulkTimedTrailerLen = 24
	bulkVersion         = 1
	bulkBufSize         = 256 << 10
	bulkNoError         = math.MaxUint64

	modeSink     = 'S'
	modeGenerate = 'G'
	modeEcho     = 'E'
	modeTimed    = 'T'
)

var bulkMagic = []byte("c2cb")

// ErrCorrupt marks a transfer in which a byte differed from the expected data.
var ErrCorrupt = errors.New("bulk data corrupted")

// ErrShort marks a transfer that ended before all its bytes arrived.
var ErrShort = errors.New("bulk transfer cut short")

// CorruptError reports the first wrong byte of a transfer; errors.Is(err,
// ErrCorrupt) holds.
type CorruptError struct {
	Offset int64  // offset of the first wrong byte in the transfer
	Side   string // who detected it: "server" (sink) or "client"
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("bulk data corrupted: first wrong byte at offset %d (detected by %s)", e.Offset, e.Side)
}

func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

// bulkHeader is one transfer's header.
type bulkHeader struct {
	mode   byte
	length int64
	seed   uint64
}

func (h bulkHeader) marshal() []byte {
	b := make([]byte, bulkHeaderLen)
	copy(b, bulkMagic)
	b[4], b[5] = bulkVersion, h.mode
	binary.BigEndian.PutUint64(b[8:], uint64(h.length))
	binary.BigEndian.PutUint64(b[16:], h.seed)
	return b
}

func parseBulkHeader(b []byte) (bulkHeader, error) {
	h := bulkHeader{mode: b[5], length: int64(binary.BigEndian.Uint64(b[8:])), seed: binary.BigEndian.Uint64(b[16:])}
	switch {
	case !bytes.Equal(b[:4], bulkMagic) || b[4] != bulkVersion || b[6] != 0 || b[7] != 0:
		return h, fmt.Errorf("bulk: header %x is not a version 1 header: %w", b, ErrMalformed)
	case h.mode != modeSink && h.mode != modeGenerate && h.mode != modeEcho && h.mode != modeTimed:
		return h, fmt.Errorf("bulk: mode %q, want S, G, E or T: %w", h.mode, ErrMalformed)
	case h.length < 0:
		return h, fmt.Errorf("bulk: length %d: %w", uint64(h.length), ErrMalformed)
	}
	return h, nil
}

// bulkPeriod is P of the protocol above.
const bulkPeriod = 4_194_301

// pattern is the first min(n, bulkPeriod) bytes of the keystream for a seed:
// the data of a transfer of n bytes repeats it.
type pattern []byte

func newPattern(seed uint64, n int64) pattern {
	key := make([]byte, 16)
	copy(key, "c2clab-b")
	binary.BigEndian.PutUint64(key[8:], seed)
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err) // unreachable: the key is 16 bytes
	}
	p := make(pattern, min(n, bulkPeriod))
	cipher.NewCTR(block, make([]byte, aes.BlockSize)).XORKeyStream(p, p)
	return p
}

// at returns the data from offset off on, at most limit bytes, stopping at
// the end of the period. p must not be empty.
func (p pattern) at(off int64, limit int64) []byte {
	i := off % int64(len(p))
	return p[i : i+min(limit, int64(len(p))-i)]
}

// verifier checks received data against the pattern.
type verifier struct {
	p   pattern
	off int64 // bytes checked so far
	bad int64 // offset of the first wrong byte, or -1
}

func newVerifier(seed uint64, n int64) *verifier {
	return &verifier{p: newPattern(seed, n), bad: -1}
}

// check compares b with the data at the current offset and reports whether
// everything so far matched. After a mismatch it only counts. The caller
// never passes more than the transfer's length in total.
func (v *verifier) check(b []byte) bool {
	if v.bad >= 0 {
		v.off += int64(len(b))
		return false
	}
	for len(b) > 0 {
		exp := v.p.at(v.off, int64(len(b)))
		if !bytes.Equal(b[:len(exp)], exp) {
			i := 0
			for b[i] == exp[i] {
				i++
			}
			v.bad = v.off + int64(i)
			v.off += int64(len(b))
			return false
		}
		v.off += int64(len(exp))
		b = b[len(exp):]
	}
	return true
}

// writePattern writes prefix (a header, may be nil) and then n bytes of
// data straight from p, the first piece with prefix in one writev.
func writePattern(c net.Conn, prefix []byte, p pattern, n int64) error {
	var off int64
	for off < n || prefix != nil {
		var chunk []byte
		if off < n {
			chunk = p.at(off, min(bulkBufSize, n-off))
		}
		bufs := net.Buffers{prefix, chunk}
		if _, err := bufs.WriteTo(c); err != nil {
			return fmt.Errorf("sent %d of %d bytes: %w", off, n, err)
		}
		prefix = nil
		off += int64(len(chunk))
	}
	return nil
}

// serveBulk runs transfers until the client closes the connection.
func (s *server) serveBulk(ctx context.Context, c net.Conn) error {
	hb := make([]byte, bulkHeaderLen)
	buf := make([]byte, bulkBufSize)
	for {
		if err := readIdle(c, hb, s.cfg.IdleTimeout); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("bulk: read header: %w", err)
		}
		h, err := parseBulkHeader(hb)
		if err != nil {
			return err
		}
		c.SetDeadline(time.Time{}) // a transfer may take long; Run's shutdown closes c
		switch h.mode {
		case modeSink, modeTimed:
			err = bulkSink(c, h, buf)
		case modeGenerate:
			err = bulkGenerate(c, h)
		case modeEcho:
			err = bulkEchoBack(c, h)
		}
		if err != nil {
			return err
		}
	}
}

// bulkSink receives and checks h.length bytes and answers the trailer: at
// once on the first wrong byte (a relay that lost data would otherwise leave
// both sides waiting), else when all bytes are in or the client closed.
// After an early answer it reads and discards the rest of the transfer. A
// timed sink (modeTimed) takes EOF as the client's normal early end.
func bulkSink(c net.Conn, h bulkHeader, buf []byte) error {
	// The clock starts before the data is computed: bytes arrive while it
	// is, and the receiver's interval is from the header to the last byte.
	start := time.Now()
	v := newVerifier(h.seed, h.length)
	last := start // when the last byte so far, or the first wrong one, came in
	answered := false
	for v.off < h.length {
		n, err := c.Read(buf[:min(int64(len(buf)), h.length-v.off)])
		if n > 0 && v.bad < 0 {
			last = time.Now()
		}
		if !v.check(buf[:n]) && !answered {
			if err := writeTrailer(c, h.mode, v, last.Sub(start)); err != nil {
				return err
			}
			answered = true
		}
		if err == io.EOF && h.mode == modeTimed {
			if answered {
				return nil
			}
			return writeTrailer(c, h.mode, v, last.Sub(start))
		}
		if err != nil {
			if !answered {
				writeTrailer(c, h.mode, v, last.Sub(start))
			}
			return fmt.Errorf("bulk: sink: received %d of %d bytes: %w", v.off, h.length, err)
		}
	}
	if answered {
		return nil
	}
	return writeTrailer(c, h.mode, v, last.Sub(start))
}

// writeTrailer answers a sink transfer; a timed sink's trailer carries
// elapsed too.
func writeTrailer(c net.Conn, mode byte, v *verifier, elapsed time.Duration) error {
	t := make([]byte, bulkTrailerLen, bulkTimedTrailerLen)
	binary.BigEndian.PutUint64(t, uint64(v.off))
	binary.BigEndian.PutUint64(t[8:], uint64(v.bad)) // -1 is all ones: no error
	if mode == modeTimed {
		t = binary.BigEndian.AppendUint64(t, uint64(elapsed.Nanoseconds()))
	}
	if _, err := c.Write(t); err != nil {
		return fmt.Errorf("bulk: write trailer: %w", err)
	}
	return nil
}

// bulkGenerate sends h.length bytes of data.
func bulkGenerate(c net.Conn, h bulkHeader) error {
	if err := writePattern(c, nil, newPattern(h.seed, h.length), h.length); err != nil {
		return fmt.Errorf("bulk: generate: %w", err)
	}
	return nil
}

// bulkEchoBack returns h.length bytes as they come; io.CopyN on a TCP
// connection lets the kernel splice them.
func bulkEchoBack(c net.Conn, h bulkHeader) error {
	if n, err := io.CopyN(c, c, h.length); err != nil {
		return fmt.Errorf("bulk: echo: returned %d of %d bytes: %w", n, h.length, err)
	}
	return nil
}
