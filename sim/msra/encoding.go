package msra

import (
	"bytes"
	"encoding/binary"
	"unicode/utf16"
	"unicode/utf8"
)

// encoding is how a file's bytes carry its text. Windows saves invitations
// as UTF-16LE with a byte order mark (the declaration says
// encoding="Unicode"); hand-edited copies are often UTF-8.
type encoding int

const (
	encUTF8 encoding = iota
	encUTF8BOM
	encUTF16LE
	encUTF16BE
)

var (
	bomUTF8    = []byte{0xEF, 0xBB, 0xBF}
	bomUTF16LE = []byte{0xFF, 0xFE}
	bomUTF16BE = []byte{0xFE, 0xFF}
)

// decodeText returns data's text as UTF-8 without a byte order mark, and
// its encoding so encodeText can restore the exact bytes.
func decodeText(data []byte) (string, encoding, error) {
	switch {
	case bytes.HasPrefix(data, bomUTF8):
		s := string(data[len(bomUTF8):])
		return s, encUTF8BOM, checkUTF8(s)
	case bytes.HasPrefix(data, bomUTF16LE):
		return decodeUTF16(data[2:], binary.LittleEndian, encUTF16LE)
	case bytes.HasPrefix(data, bomUTF16BE):
		return decodeUTF16(data[2:], binary.BigEndian, encUTF16BE)
	}
	return string(data), encUTF8, checkUTF8(string(data))
}

func checkUTF8(s string) error {
	if !utf8.ValidString(s) {
		return fieldErr("file", "is not valid UTF-8, want UTF-8 or UTF-16 with a byte order mark")
	}
	return nil
}

func decodeUTF16(b []byte, order binary.ByteOrder, enc encoding) (string, encoding, error) {
	if len(b)%2 != 0 {
		return "", enc, fieldErr("file", "has an odd number of bytes after a UTF-16 byte order mark, want whole UTF-16 code units")
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = order.Uint16(b[2*i:])
	}
	s := string(utf16.Decode(u))
	// Unpaired surrogates decode to U+FFFD and would not encode back to
	// the same bytes, so rewriting could not keep the file's other bytes.
	if !bytes.Equal(encodeText(s, enc)[2:], b) {
		return "", enc, fieldErr("file", "is not valid UTF-16 (unpaired surrogate)")
	}
	return s, enc, nil
}

// encodeText turns text back into bytes of encoding enc.
func encodeText(s string, enc encoding) []byte {
	switch enc {
	case encUTF8BOM:
		return append(append([]byte{}, bomUTF8...), s...)
	case encUTF16LE, encUTF16BE:
		var order binary.AppendByteOrder = binary.LittleEndian
		out := append([]byte{}, bomUTF16LE...)
		if enc == encUTF16BE {
			order, out = binary.BigEndian, append([]byte{}, bomUTF16BE...)
		}
		for _, u := range utf16.Encode([]rune(s)) {
			out = order.AppendUint16(out, u)
		}
		return out
	}
	return []byte(s)
}
