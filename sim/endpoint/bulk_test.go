package endpoint

import (
	"bytes"
	"context"
	"crypto/aes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/c2clab/c2clab/sim/device"
)

func bulkServer(t testing.TB) string {
	t.Helper()
	return start(t, Config{Services: []device.Service{{Kind: "bulk"}}})["bulk:0"]
}

func TestPatternIsRepeatedAESCTRKeystream(t *testing.T) {
	// Known answer computed independently: block i of the keystream is
	// AES-128("c2clab-b" || seed, counter block i).
	key := append([]byte("c2clab-b"), binary.BigEndian.AppendUint64(nil, 42)...)
	block, _ := aes.NewCipher(key)
	want := make([]byte, 32)
	ctr := make([]byte, 16)
	block.Encrypt(want[:16], ctr)
	ctr[15] = 1
	block.Encrypt(want[16:], ctr)
	if got := newPattern(42, 32); !bytes.Equal(got, want) {
		t.Fatalf("pattern(42) = %x, want %x", got, want)
	}
	long := newPattern(42, 3*bulkPeriod)
	if len(long) != bulkPeriod || !bytes.Equal(long[:32], want) {
		t.Fatalf("long pattern: %d bytes starting %x", len(long), long[:32])
	}
	if got := long.at(2*bulkPeriod+16, 100); !bytes.Equal(got, want[16:]) && !bytes.Equal(got[:16], want[16:]) {
		t.Fatalf("at(2P+16) = %x, want the data at 16", got[:16])
	}
	if got := long.at(bulkPeriod-3, 100); len(got) != 3 {
		t.Fatalf("at(P-3) returned %d bytes, want 3 (up to the period's end)", len(got))
	}
}

func TestBulkTransfers(t *testing.T) {
	conn := dial(t, bulkServer(t))
	ctx := testCtx(t)
	ops := []struct {
		name string
		f    func(context.Context, net.Conn, int64, uint64) (BulkResult, error)
	}{{"send", BulkSend}, {"receive", BulkReceive}, {"echo", BulkEcho}}
	// Every transfer runs on the same connection: the service loops.
	for _, n := range []int64{0, 1, 1000003, 8 << 20} {
		for _, op := range ops {
			r, err := op.f(ctx, conn, n, uint64(n)+7)
			if err != nil || r.Bytes != n || r.CorruptOffset != -1 {
				t.Fatalf("%s %d bytes: %+v, %v", op.name, n, r, err)
			}
		}
	}
}

// mangle changes the bytes of one direction of a proxied connection: it gets
// each piece read and the offset of its first byte, and returns what to send.
type mangle func(b []byte, off int64) []byte

func flipAt(at int64) mangle {
	return func(b []byte, off int64) []byte {
		if at >= off && at < off+int64(len(b)) {
			b[at-off] ^= 0x40
		}
		return b
	}
}

// dropAt drops n bytes from offset at, as a relay that loses a frame would.
func dropAt(at, n int64) mangle {
	return func(b []byte, off int64) []byte {
		var out []byte
		for i := range b {
			if o := off + int64(i); o < at || o >= at+n {
				out = append(out, b[i])
			}
		}
		return out
	}
}

// mangleProxy relays one connection to upstream, passing each direction
// through its mangle (nil: unchanged).
func mangleProxy(t *testing.T, upstream string, c2s, s2c mangle) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		c, err := ln.Accept()
		if err != nil {
			return
		}
		u, err := net.Dial("tcp", upstream)
		if err != nil {
			c.Close()
			return
		}
		var pipes sync.WaitGroup
		pipes.Add(2)
		go func() { defer pipes.Done(); mangleCopy(u, c, c2s) }()
		go func() { defer pipes.Done(); mangleCopy(c, u, s2c) }()
		pipes.Wait()
		c.Close()
		u.Close()
	}()
	return ln.Addr().String()
}

func mangleCopy(dst, src net.Conn, m mangle) {
	buf := make([]byte, 64<<10)
	var off int64
	for {
		n, err := src.Read(buf)
		out := buf[:n]
		if m != nil {
			out = m(out, off)
		}
		off += int64(n)
		if _, werr := dst.Write(out); werr != nil || err != nil {
			dst.(*net.TCPConn).CloseWrite()
			return
		}
	}
}

func TestBulkDetectsCorruption(t *testing.T) {
	const n, at = 12 << 20, 3_000_001 // at is an offset in the data, after the header
	type op func(context.Context, net.Conn, int64, uint64) (BulkResult, error)
	for _, tc := range []struct {
		name     string
		f        op
		c2s, s2c mangle
		side     string
	}{
		{"send, flipped bit, server detects", BulkSend, flipAt(bulkHeaderLen + at), nil, "server"},
		{"receive, flipped bit, client detects", BulkReceive, nil, flipAt(at), "client"},
		{"echo, flipped bit, client detects", BulkEcho, flipAt(bulkHeaderLen + at), nil, "client"},
		{"send, lost frame, server detects", BulkSend, dropAt(bulkHeaderLen+at, 256<<10), nil, "server"},
		{"receive, lost frame, client detects", BulkReceive, nil, dropAt(at, 256<<10), "client"},
		{"receive, lost period, client detects", BulkReceive, nil, dropAt(at, bulkPeriod+1), "client"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn := dial(t, mangleProxy(t, bulkServer(t), tc.c2s, tc.s2c))
			r, err := tc.f(testCtx(t), conn, n, 1)
			var ce *CorruptError
			// A lost piece shows at its offset, or a few bytes on if the
			// shifted data happens to match there.
			if !errors.Is(err, ErrCorrupt) || !errors.As(err, &ce) || ce.Offset < at || ce.Offset > at+64 || ce.Side != tc.side || r.CorruptOffset != ce.Offset {
				t.Fatalf("got %+v, %v; want corruption at %d detected by %s", r, err, at, tc.side)
			}
		})
	}
}

func TestBulkReceiveShort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // a server that sends 1000 correct bytes and closes
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.ReadFull(c, make([]byte, bulkHeaderLen))
		c.Write(newPattern(9, 1<<20)[:1000])
	}()
	r, err := BulkReceive(testCtx(t), dial(t, ln.Addr().String()), 1<<20, 9)
	if !errors.Is(err, ErrShort) || r.Bytes != 1000 || r.CorruptOffset != -1 {
		t.Fatalf("got %+v, %v; want ErrShort after 1000 bytes", r, err)
	}
}

func TestBulkBadHeaderDropped(t *testing.T) {
	addr := bulkServer(t)
	for _, tc := range []struct {
		name string
		hdr  func(b []byte)
	}{
		{"magic", func(b []byte) { b[0] = 'x' }},
		{"version", func(b []byte) { b[4] = 2 }},
		{"mode", func(b []byte) { b[5] = 'X' }},
		{"reserved", func(b []byte) { b[7] = 1 }},
		{"negative length", func(b []byte) { b[8] = 0x80 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := bulkHeader{mode: modeGenerate, length: 10, seed: 1}.marshal()
			tc.hdr(b)
			c := dial(t, addr)
			c.Write(b)
			expectDropped(t, c)
		})
	}
}

func TestBulkHonoursContext(t *testing.T) {
	conn := dial(t, bulkServer(t))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := BulkReceive(ctx, conn, 1<<50, 1) // far more than 100ms worth
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Fatalf("BulkReceive: %v after %v, want deadline exceeded", err, time.Since(start))
	}
}

// BenchmarkBulk measures the bulk path over loopback TCP, client and
// service in one process, against plain TCP moving unchecked bytes the same
// way (RawTCP). MB/s depends on what else the machine runs; cpu-ns/B, the
// process's CPU time per byte, shows the cost of checking every byte.
func BenchmarkBulk(b *testing.B) {
	const n = 64 << 20
	addr := bulkServer(b)
	for _, op := range []struct {
		name string
		f    func(context.Context, net.Conn, int64, uint64) (BulkResult, error)
	}{{"Send", BulkSend}, {"Receive", BulkReceive}, {"Echo", BulkEcho}, {"RawTCP", rawSend(b)}} {
		b.Run(op.name, func(b *testing.B) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			b.SetBytes(n)
			cpu := processCPU()
			for b.Loop() {
				if _, err := op.f(context.Background(), conn, n, 3); err != nil {
					b.Fatal(err)
				}
			}
			if cpu := processCPU() - cpu; cpu > 0 {
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(n)/float64(b.N), "cpu-ns/B")
			}
		})
	}
}

// rawSend returns a transfer function that ignores the bulk service and
// sends n zero bytes to a plain discarding TCP sink, in the same buffer size.
func rawSend(b *testing.B) func(context.Context, net.Conn, int64, uint64) (BulkResult, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	acks := make(chan struct{})
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, bulkBufSize)
		for {
			var got int64
			for got < 64<<20 {
				k, err := c.Read(buf)
				if err != nil {
					return
				}
				got += int64(k)
			}
			acks <- struct{}{}
		}
	}()
	var conn net.Conn
	zeros := make([]byte, bulkBufSize)
	return func(_ context.Context, _ net.Conn, n int64, _ uint64) (BulkResult, error) {
		if conn == nil {
			if conn, err = net.Dial("tcp", ln.Addr().String()); err != nil {
				return BulkResult{}, err
			}
			b.Cleanup(func() { conn.Close() })
		}
		for left := n; left > 0; left -= bulkBufSize {
			if _, err := conn.Write(zeros); err != nil {
				return BulkResult{}, err
			}
		}
		<-acks
		return BulkResult{Bytes: n}, nil
	}
}
