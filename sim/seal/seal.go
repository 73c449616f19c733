// Package seal carries a byte stream, after a TLS 1.3 handshake, as AES-GCM
// frames on the same TCP connection, keyed from that handshake's exporter
// (docs/PROTOCOL.md section 7.1). Frames of up to 256 KiB, read and sealed
// in place, cost far fewer syscalls and copies than TLS's 16 KiB records,
// while every byte, the order of the frames and the end of the stream stay
// authenticated.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/tls"
	"errors"
	"fmt"
	"math"
)

// Wire constants of the frame format (docs/PROTOCOL.md section 7.1).
const (
	// Label is the TLS exporter label the keys are derived with (RFC 8446
	// section 7.5, empty context).
	Label = "c2c/1 data frames"
	// KeyLen is the AES key length: AES-128-GCM, the cipher the TLS 1.3
	// session itself negotiates on hardware with AES instructions, and
	// measured about 8% faster than AES-256-GCM here (docs/PERFORMANCE.md).
	KeyLen = 16
	// IVLen is the length of a direction's IV and of the GCM nonce.
	IVLen = 12
	// ExportLen is how many bytes are exported: key and IV of the
	// client-to-server direction, then key and IV of server-to-client.
	ExportLen = 2 * (KeyLen + IVLen)
	// HeaderLen is the frame header: flags, then the 24-bit big-endian
	// plaintext length. It is the AEAD's additional data.
	HeaderLen = 4
	// TagLen is the GCM tag that follows the ciphertext.
	TagLen = 16
	// MaxPayload is the largest plaintext of one frame.
	MaxPayload = 256 << 10
	// FlagEnd marks the end-of-stream frame, which carries no plaintext.
	FlagEnd = 0x01
)

// maxFrame is the largest frame on the wire.
const maxFrame = HeaderLen + MaxPayload + TagLen

// Errors a reader or writer fails with; the stream is unusable afterwards.
var (
	// ErrAuth: a frame's tag did not verify (a flipped bit, a replayed,
	// reordered or dropped frame, or the wrong key).
	ErrAuth = errors.New("frame failed authentication")
	// ErrTruncated: the connection ended before an authenticated
	// end-of-stream frame, at or inside a frame.
	ErrTruncated = errors.New("stream ended without an authenticated end-of-stream")
	// ErrMalformed: a header with unknown flags, a length above
	// MaxPayload, or an end-of-stream frame that carries bytes.
	ErrMalformed = errors.New("malformed frame header")
	// ErrWriteClosed: a write after CloseWrite.
	ErrWriteClosed = errors.New("write after end-of-stream")
	// ErrExhausted: 2^64-1 frames were sent in one direction; a nonce is
	// never reused, so the stream stops instead.
	ErrExhausted = errors.New("frame counter exhausted")
)

// Keys keys one direction.
type Keys struct {
	Key [KeyLen]byte
	IV  [IVLen]byte
}

// Derive exports the keys of both directions from an established TLS 1.3
// connection and returns them as this end uses them: client is true on the
// TLS client (the source agent).
func Derive(cs *tls.ConnectionState, client bool) (send, recv Keys, err error) {
	return Dialect{}.Derive(cs, client)
}

// direction is the AEAD state of one direction.
type direction struct {
	aead cipher.AEAD
	iv   [IVLen]byte
	seq  uint64 // frames sealed or opened so far: the next frame's number
	// seqLeft: Dialect.SeqLeft.
	seqLeft bool
}

func newDirection(k Keys) (direction, error) {
	b, err := aes.NewCipher(k.Key[:])
	if err != nil {
		return direction{}, fmt.Errorf("new frame cipher: %w", err)
	}
	g, err := cipher.NewGCM(b)
	if err != nil {
		return direction{}, fmt.Errorf("new frame cipher: %w", err)
	}
	return direction{aead: g, iv: k.IV}, nil
}

// nonce returns the next frame's nonce, the IV XOR the 64-bit frame number
// right-aligned (as TLS 1.3 builds its record nonces), and counts the frame.
func (d *direction) nonce() ([IVLen]byte, error) {
	n := d.iv
	if d.seq == math.MaxUint64 {
		return n, ErrExhausted
	}
	for i := range 8 {
		if d.seqLeft {
			n[7-i] ^= byte(d.seq >> (8 * i))
		} else {
			n[IVLen-1-i] ^= byte(d.seq >> (8 * i))
		}
	}
	d.seq++
	return n, nil
}

// putHeader writes a frame header for n plaintext bytes into h.
func putHeader(h []byte, flags byte, n int) {
	h[0], h[1], h[2], h[3] = flags, byte(n>>16), byte(n>>8), byte(n)
}

// parseHeader checks a header and returns its flags and plaintext length.
func parseHeader(h []byte) (flags byte, n int, err error) {
	flags, n = h[0], int(h[1])<<16|int(h[2])<<8|int(h[3])
	switch {
	case flags&^FlagEnd != 0:
		return 0, 0, fmt.Errorf("%w: flags %#02x, only %#02x is defined", ErrMalformed, flags, FlagEnd)
	case n > MaxPayload:
		return 0, 0, fmt.Errorf("%w: length %d, at most %d", ErrMalformed, n, MaxPayload)
	case flags&FlagEnd != 0 && n != 0:
		return 0, 0, fmt.Errorf("%w: end-of-stream frame with %d bytes", ErrMalformed, n)
	}
	return flags, n, nil
}
