package wire

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/c2clab/c2clab/sim/code"
)

// TokenLen is the length of a data-path token in bytes.
const TokenLen = 16

// Token is a one-time data-path credential: single use, bound to one side of
// one connection, valid for TokenLifetime. In JSON it is 32 lowercase hex
// characters.
type Token [TokenLen]byte

// NewToken returns a random token.
func NewToken() (Token, error) {
	var t Token
	if _, err := rand.Read(t[:]); err != nil {
		return t, fmt.Errorf("new token: %w", err)
	}
	return t, nil
}

// IsZero reports whether t is unset.
func (t Token) IsZero() bool { return t == Token{} }

func (t Token) String() string { return hex.EncodeToString(t[:]) }

// MarshalText implements encoding.TextMarshaler.
func (t Token) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (t *Token) UnmarshalText(b []byte) error {
	if len(b) != 2*TokenLen {
		return fmt.Errorf("token: %d characters, want %d hex", len(b), 2*TokenLen)
	}
	if _, err := hex.Decode(t[:], b); err != nil {
		return fmt.Errorf("token: %w", err)
	}
	return nil
}

// Preamble layout: magic "C2CD", version byte 1, token.
const (
	preambleMagic   = "C2CD"
	preambleVersion = 1
	// PreambleLen is the number of bytes a side sends first on a data
	// connection.
	PreambleLen = len(preambleMagic) + 1 + TokenLen
)

// AppendPreamble appends the data-path preamble carrying t to b.
func AppendPreamble(b []byte, t Token) []byte {
	b = append(b, preambleMagic...)
	b = append(b, preambleVersion)
	return append(b, t[:]...)
}

// WritePreamble writes the preamble carrying t in one Write.
func WritePreamble(w io.Writer, t Token) error {
	if _, err := w.Write(AppendPreamble(nil, t)); err != nil {
		return fmt.Errorf("write preamble: %w", err)
	}
	return nil
}

// ReadPreamble reads exactly PreambleLen bytes and returns the token; a bad
// magic or version wraps ErrProtocol.
func ReadPreamble(r io.Reader) (Token, error) {
	var b [PreambleLen]byte
	var t Token
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return t, fmt.Errorf("read preamble: %w", err)
	}
	if string(b[:4]) != preambleMagic || b[4] != preambleVersion {
		return t, fmt.Errorf("%w: preamble starts %x, want %x%02x", ErrProtocol, b[:5], preambleMagic, preambleVersion)
	}
	copy(t[:], b[5:])
	return t, nil
}

// Pairing answer: status byte (0 paired, 1 refused), code length byte, code
// in ASCII. A paired answer is the two bytes 00 00.
const (
	answerPaired  = 0
	answerRefused = 1
)

// WriteAnswer writes the broker's pairing answer: c == "" means paired.
func WriteAnswer(w io.Writer, c code.Code) error {
	if len(c) > 255 {
		return fmt.Errorf("write answer: code %q longer than 255 bytes", c)
	}
	b := []byte{answerPaired, byte(len(c))}
	if c != "" {
		b[0] = answerRefused
	}
	if _, err := w.Write(append(b, c...)); err != nil {
		return fmt.Errorf("write answer: %w", err)
	}
	return nil
}

// ReadAnswer reads the pairing answer: "" means paired; otherwise the code
// the broker refused with.
func ReadAnswer(r io.Reader) (code.Code, error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return "", fmt.Errorf("read pairing answer: %w", err)
	}
	switch {
	case h[0] == answerPaired && h[1] == 0:
		return "", nil
	case h[0] == answerRefused && h[1] > 0:
		c := make([]byte, h[1])
		if _, err := io.ReadFull(r, c); err != nil {
			return "", fmt.Errorf("read pairing answer: %w", err)
		}
		return code.Code(c), nil
	}
	return "", fmt.Errorf("%w: pairing answer %x", ErrProtocol, h)
}
