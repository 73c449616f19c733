package seal

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// recorder is a net.Conn that records what is written and replays what it
// was given to read: the byte stream a broker or path could alter.
type recorder struct {
	bytes.Buffer
	in io.Reader
}

func (r *recorder) Read(b []byte) (int, error) {
	if r.in == nil {
		return 0, io.EOF
	}
	return r.in.Read(b)
}
func (r *recorder) Close() error                     { return nil }
func (r *recorder) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (r *recorder) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (r *recorder) SetDeadline(time.Time) error      { return nil }
func (r *recorder) SetReadDeadline(time.Time) error  { return nil }
func (r *recorder) SetWriteDeadline(time.Time) error { return nil }

// frames seals each payload as one frame, then end-of-stream, and returns
// the frames as sent on the wire.
func frames(t testing.TB, k Keys, payloads ...string) [][]byte {
	t.Helper()
	rec := &recorder{}
	c, err := New(rec, k, Keys{})
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, p := range payloads {
		if _, err := c.Write([]byte(p)); err != nil {
			t.Fatal(err)
		}
		out = append(out, bytes.Clone(rec.Bytes()))
		rec.Reset()
	}
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	return append(out, bytes.Clone(rec.Bytes()))
}

// receive opens stream with k and returns the plaintext delivered before
// the first error (nil at a clean end-of-stream).
func receive(k Keys, stream []byte) ([]byte, error) {
	c, err := New(&recorder{in: bytes.NewReader(stream)}, Keys{}, k)
	if err != nil {
		return nil, err
	}
	var got bytes.Buffer
	_, err = c.WriteTo(&got)
	return got.Bytes(), err
}

// TestTamperDetected: every change a broker or path can make to the stream
// fails the connection with a clear error, and what was delivered before it
// is exactly a prefix of what was sent.
func TestTamperDetected(t *testing.T) {
	k, other := testKeys(t)
	f := frames(t, k, "first frame", "second frame", "third frame")
	sent := "first framesecond framethird frame"
	join := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	whole := join(f...)
	flip := func(off int, bit byte) []byte {
		b := bytes.Clone(whole)
		b[off] ^= bit
		return b
	}
	hdr1 := len(f[0]) // offset of the second frame's header
	tests := []struct {
		name   string
		stream []byte
		key    Keys
		want   error // nil: delivered whole, clean end
	}{
		{"untouched", whole, k, nil},
		{"bit flipped in ciphertext", flip(hdr1+HeaderLen+3, 0x04), k, ErrAuth},
		{"bit flipped in tag", flip(hdr1+len(f[1])-1, 0x80), k, ErrAuth},
		{"flags bit set", flip(hdr1, 0x02), k, ErrMalformed},
		{"end-of-stream flag set on a data frame", flip(hdr1, FlagEnd), k, ErrMalformed},
		{"length changed", flip(hdr1+3, 0x01), k, ErrAuth},
		{"length over the maximum", flip(hdr1+1, 0x10), k, ErrMalformed},
		{"end-of-stream dropped", join(f[0], f[1], f[2]), k, ErrTruncated},
		{"cut at a frame boundary", join(f[0], f[1]), k, ErrTruncated},
		{"cut inside a frame", whole[:hdr1+7], k, ErrTruncated},
		{"cut inside a header", whole[:hdr1+2], k, ErrTruncated},
		{"frames reordered", join(f[0], f[2], f[1], f[3]), k, ErrAuth},
		{"frame replayed", join(f[0], f[0], f[1], f[2], f[3]), k, ErrAuth},
		{"frame dropped", join(f[0], f[2], f[3]), k, ErrAuth},
		{"end-of-stream moved early", join(f[0], f[3]), k, ErrAuth},
		{"wrong key", whole, other, ErrAuth},
		{"empty stream", nil, k, ErrTruncated},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := receive(tc.key, tc.stream)
			if !bytes.HasPrefix([]byte(sent), got) {
				t.Fatalf("delivered %q, not a prefix of what was sent", got)
			}
			if tc.want == nil {
				if err != nil || string(got) != sent {
					t.Fatalf("got %q, %v; want %q", got, err, sent)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v (delivered %q)", err, tc.want, got)
			}
			t.Logf("detected: %v (after %d good bytes)", err, len(got))
		})
	}
}

// TestErrorIsSticky: after a failure no later Read delivers anything.
func TestErrorIsSticky(t *testing.T) {
	k, _ := testKeys(t)
	f := frames(t, k, "one", "two")
	bad := bytes.Clone(f[0])
	bad[HeaderLen] ^= 1
	c, _ := New(&recorder{in: bytes.NewReader(bytes.Join([][]byte{bad, f[1], f[2]}, nil))}, Keys{}, k)
	buf := make([]byte, 10)
	for i := range 3 {
		if n, err := c.Read(buf); n != 0 || !errors.Is(err, ErrAuth) {
			t.Fatalf("read %d: %d bytes, %v; want 0, %v", i, n, err, ErrAuth)
		}
	}
}

// FuzzReceive: whatever a path does to a sealed stream, the receiver
// delivers a prefix of what was sent, and ends cleanly only when it got
// all of it.
func FuzzReceive(f *testing.F) {
	var k Keys // fixed, so the corpus stays meaningful across runs
	k.Key[0], k.IV[0] = 1, 2
	sent := "first framesecond framethird frame"
	whole := bytes.Join(frames(f, k, "first frame", "second frame", "third frame"), nil)
	f.Add(whole)
	f.Add(whole[:len(whole)/2])
	f.Add(append(bytes.Clone(whole), whole...))
	f.Fuzz(func(t *testing.T, stream []byte) {
		got, err := receive(k, stream)
		if !bytes.HasPrefix([]byte(sent), got) {
			t.Fatalf("delivered %q, not a prefix of what was sent", got)
		}
		if err == nil && string(got) != sent {
			t.Fatalf("clean end after %q of %q", got, sent)
		}
	})
}
