package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
)

// TestTruncatedFrames: a frame cut anywhere is an I/O error the receiver
// can tell from a clean close (io.EOF only at a frame boundary), never a
// message and never a protocol error (the peer did not send a bad frame,
// it stopped sending).
func TestTruncatedFrames(t *testing.T) {
	whole := frame(`{"type":"connect","id":"1","fqdn":"a.example.com","port":3389,"proto":"tcp"}`)
	for n := 0; n < len(whole); n++ {
		_, err := ReadMessage(bytes.NewReader(whole[:n]))
		switch {
		case n == 0 && err != io.EOF:
			t.Fatalf("empty stream: %v, want io.EOF", err)
		case n > 0 && !errors.Is(err, io.ErrUnexpectedEOF):
			t.Fatalf("frame cut after %d of %d bytes: %v, want io.ErrUnexpectedEOF", n, len(whole), err)
		case errors.Is(err, ErrProtocol):
			t.Fatalf("frame cut after %d bytes is a protocol error: %v", n, err)
		}
	}
	if _, err := ReadMessage(bytes.NewReader(whole)); err != nil {
		t.Fatalf("whole frame: %v", err)
	}
}

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestOversizedFramesRejectedBeforeAllocation: a length prefix above
// MaxMessage is refused from the 4 header bytes alone, before anything the
// size of the claimed body is allocated or read.
func TestOversizedFramesRejectedBeforeAllocation(t *testing.T) {
	for _, n := range []uint32{MaxMessage + 1, 1 << 30, 0xFFFFFFFF} {
		hdr := binary.BigEndian.AppendUint32(nil, n)
		r := bytes.NewReader(append(hdr, `{"type":"keepalive"}`...))
		var err error
		got := allocated(func() { _, err = ReadMessage(r) })
		if !errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), "frame length") {
			t.Fatalf("length %d: %v, want a protocol error naming the frame length", n, err)
		}
		if got > 64<<10 {
			t.Errorf("length %d: allocated %d bytes before refusing", n, got)
		}
		if r.Len() != len(`{"type":"keepalive"}`) {
			t.Errorf("length %d: read %d body bytes before refusing", n, len(`{"type":"keepalive"}`)-r.Len())
		}
	}
}

// TestLargestFrameAccepted: exactly MaxMessage bytes is a valid frame.
func TestLargestFrameAccepted(t *testing.T) {
	head := `{"type":"error","code":"BRK_PROTOCOL_ERROR","message":"`
	body := head + strings.Repeat("x", MaxMessage-len(head)-2) + `"}`
	m, err := ReadMessage(bytes.NewReader(frame(body)))
	if err != nil || m.Type() != TypeError {
		t.Fatalf("frame of MaxMessage bytes: %v, %v", m, err)
	}
	if _, err := ReadMessage(bytes.NewReader(frame(body + " "))); !errors.Is(err, ErrProtocol) {
		t.Fatalf("frame of MaxMessage+1 bytes: %v, want ErrProtocol", err)
	}
}

// TestTypeMember: the type member must be there, spelled "type", a string
// the protocol defines.
func TestTypeMember(t *testing.T) {
	for name, body := range map[string]string{
		"unknown type":          `{"type":"shutdown"}`,
		"empty type":            `{"type":""}`,
		"type null":             `{"type":null}`,
		"type a number":         `{"type":5}`,
		"type an object":        `{"type":{"name":"keepalive"}}`,
		"type in another case":  `{"Type":"keepalive","seq":1}`,
		"type upper case":       `{"TYPE":"keepalive"}`,
		"type case of a value":  `{"type":"Keepalive"}`,
		"null body":             `null`,
		"string body":           `"keepalive"`,
		"two objects":           `{"type":"keepalive"}{"type":"keepalive"}`,
		"trailing garbage":      `{"type":"keepalive"}x`,
		"not UTF-8 JSON":        "{\"type\":\"keepalive\",\"x\":\"\xff\"}x",
		"message of wrong kind": `{"type":"keepalive","seq":-1}`,
	} {
		t.Run(name, func(t *testing.T) {
			m, err := Unmarshal([]byte(body))
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("Unmarshal(%s) = %#v, %v; want ErrProtocol", body, m, err)
			}
		})
	}
}

func TestBadPreamble(t *testing.T) {
	tok := Token{1, 2, 3}
	good := AppendPreamble(nil, tok)
	for n := 0; n < len(good); n++ {
		if _, err := ReadPreamble(bytes.NewReader(good[:n])); err == nil || errors.Is(err, ErrProtocol) {
			t.Fatalf("preamble cut after %d bytes: %v, want an I/O error", n, err)
		}
	}
	badVersion := bytes.Clone(good)
	badVersion[4] = 2
	for name, p := range map[string][]byte{"bad version": badVersion, "TLS record instead": append([]byte{0x16, 3, 1, 0, 0xc0}, good[5:]...)} {
		if _, err := ReadPreamble(bytes.NewReader(p)); !errors.Is(err, ErrProtocol) {
			t.Errorf("%s: %v, want ErrProtocol", name, err)
		}
	}
}

func TestBadAnswer(t *testing.T) {
	for name, in := range map[string][]byte{
		"refused without a code": {1, 0},
		"paired with a code":     {0, 2, 'x', 'y'},
		"unknown status":         {2, 0},
	} {
		if _, err := ReadAnswer(bytes.NewReader(in)); !errors.Is(err, ErrProtocol) {
			t.Errorf("%s: %v, want ErrProtocol", name, err)
		}
	}
	if _, err := ReadAnswer(bytes.NewReader([]byte{1, 10, 'C', '2'})); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("code cut short: %v, want io.ErrUnexpectedEOF", err)
	}
}
