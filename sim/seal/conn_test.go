package seal

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"testing"
	"time"
)

// testKeys returns fresh random keys for the two directions.
func testKeys(t testing.TB) (a2b, b2a Keys) {
	t.Helper()
	for _, k := range []*Keys{&a2b, &b2a} {
		rand.Read(k.Key[:])
		rand.Read(k.IV[:])
	}
	return a2b, b2a
}

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t testing.TB) (*net.TCPConn, *net.TCPConn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := l.Accept()
		accepted <- c
	}()
	a, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b := <-accepted
	if b == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a.(*net.TCPConn), b.(*net.TCPConn)
}

// sealedPair returns two Conns over a loopback TCP connection.
func sealedPair(t testing.TB) (a, b *Conn) {
	t.Helper()
	ra, rb := tcpPair(t)
	a2b, b2a := testKeys(t)
	a, err := New(ra, a2b, b2a)
	if err != nil {
		t.Fatal(err)
	}
	if b, err = New(rb, b2a, a2b); err != nil {
		t.Fatal(err)
	}
	return a, b
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// chunkedWriter writes with Write in random chunk sizes, as an application
// would, then sends end-of-stream.
func chunkedWriter(c *Conn, data []byte, seed uint64) error {
	r := mrand.New(mrand.NewPCG(seed, 0))
	for len(data) > 0 {
		k := min(len(data), 1+r.IntN(2*MaxPayload))
		if _, err := c.Write(data[:k]); err != nil {
			return err
		}
		data = data[k:]
	}
	return c.CloseWrite()
}

// fromReader sends data with ReadFrom (one frame per read of the source),
// then end-of-stream.
func fromReader(c *Conn, data []byte, _ uint64) error {
	if _, err := c.ReadFrom(bytes.NewReader(data)); err != nil {
		return err
	}
	return c.CloseWrite()
}

func TestRoundTrip(t *testing.T) {
	sizes := []int{0, 1, 1000, MaxPayload - 1, MaxPayload, MaxPayload + 1, 3*MaxPayload + 12345}
	senders := map[string]func(*Conn, []byte, uint64) error{"Write": chunkedWriter, "ReadFrom": fromReader}
	readers := map[string]func(*Conn) ([]byte, error){
		"Read":    func(c *Conn) ([]byte, error) { return io.ReadAll(c) },
		"WriteTo": func(c *Conn) ([]byte, error) { var b bytes.Buffer; _, err := c.WriteTo(&b); return b.Bytes(), err },
	}
	for sname, send := range senders {
		for rname, read := range readers {
			for _, size := range sizes {
				t.Run(fmt.Sprintf("%s-%s-%d", sname, rname, size), func(t *testing.T) {
					a, b := sealedPair(t)
					up, down := randomBytes(size), randomBytes(size/2+7)
					// Both directions at once: Read and Write run concurrently.
					errs := make(chan error, 2)
					go func() { errs <- send(a, up, uint64(size)) }()
					go func() { errs <- send(b, down, uint64(size)+1) }()
					gotUp, err := read(b)
					if err != nil || !bytes.Equal(gotUp, up) {
						t.Fatalf("a to b: %d of %d bytes, equal %v, err %v", len(gotUp), len(up), bytes.Equal(gotUp, up), err)
					}
					gotDown, err := read(a)
					if err != nil || !bytes.Equal(gotDown, down) {
						t.Fatalf("b to a: %d of %d bytes, equal %v, err %v", len(gotDown), len(down), bytes.Equal(gotDown, down), err)
					}
					for range 2 {
						if err := <-errs; err != nil {
							t.Fatal(err)
						}
					}
				})
			}
		}
	}
}

func TestHalfClose(t *testing.T) {
	a, b := sealedPair(t)
	if _, err := a.Write([]byte("request")); err != nil {
		t.Fatal(err)
	}
	if err := a.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Write([]byte("more")); !errors.Is(err, ErrWriteClosed) {
		t.Fatalf("write after CloseWrite: %v, want %v", err, ErrWriteClosed)
	}
	got, err := io.ReadAll(b)
	if err != nil || string(got) != "request" {
		t.Fatalf("b read %q, %v", got, err)
	}
	if n, err := b.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("read after end-of-stream: %d, %v; want 0, EOF", n, err)
	}
	// The other direction still works after the half-close.
	if _, err := b.Write([]byte("response")); err != nil {
		t.Fatal(err)
	}
	if err := b.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	got, err = io.ReadAll(a)
	if err != nil || string(got) != "response" {
		t.Fatalf("a read %q, %v", got, err)
	}
}

// TestCloseWithoutEndOfStream: a peer that closes without CloseWrite looks
// like a truncating path, never like a clean end.
func TestCloseWithoutEndOfStream(t *testing.T) {
	a, b := sealedPair(t)
	a.Write([]byte("partial"))
	a.Close()
	got, err := io.ReadAll(b)
	if !errors.Is(err, ErrTruncated) || string(got) != "partial" {
		t.Fatalf("read %q, %v; want %q and %v", got, err, "partial", ErrTruncated)
	}
}

// TestSmallWritesGoOutAtOnce: a small Write is readable at the peer
// without a further Write (no batching), within a generous bound.
func TestSmallWritesGoOutAtOnce(t *testing.T) {
	a, b := sealedPair(t)
	buf := make([]byte, 16)
	for i := range 100 {
		if _, err := a.Write([]byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
		b.SetReadDeadline(time.Now().Add(5 * time.Second))
		if n, err := b.Read(buf); n != 1 || err != nil || buf[0] != byte(i) {
			t.Fatalf("read %d: %d bytes %x, %v", i, n, buf[:n], err)
		}
	}
	// Small frames keep the small buffers (connection setup stays cheap).
	if len(a.wbuf) != initialBuf || len(b.rbuf) != initialBuf {
		t.Fatalf("buffers grew to %d and %d bytes for 1-byte frames", len(a.wbuf), len(b.rbuf))
	}
}

// TestReadDeadlineResumes: a read that times out inside a frame loses
// nothing; the next Read delivers the frame.
func TestReadDeadlineResumes(t *testing.T) {
	ra, rb := tcpPair(t)
	a2b, b2a := testKeys(t)
	a, _ := New(&recorder{}, a2b, b2a)
	b, _ := New(rb, b2a, a2b)
	a.Write([]byte("hello"))
	frame := a.raw.(*recorder).Bytes()
	ra.Write(frame[:6]) // header and part of the ciphertext
	b.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := b.Read(make([]byte, 8)); !isTimeout(err) {
		t.Fatalf("read of half a frame: %v, want a timeout", err)
	}
	ra.Write(frame[6:])
	b.SetReadDeadline(time.Time{})
	got := make([]byte, 8)
	n, err := b.Read(got)
	if err != nil || string(got[:n]) != "hello" {
		t.Fatalf("read after the timeout: %q, %v", got[:n], err)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
