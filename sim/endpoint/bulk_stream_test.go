package endpoint

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/c2clab/c2clab/sim/device"
)

// writeData writes n bytes of d from offset 0, as a client driving the
// protocol itself does.
func writeData(t *testing.T, c net.Conn, d BulkData, n int64) {
	t.Helper()
	for off := int64(0); off < n; {
		b := d.At(off, min(bulkBufSize, n-off))
		if _, err := c.Write(b); err != nil {
			t.Fatalf("write at %d: %v", off, err)
		}
		off += int64(len(b))
	}
}

func TestBulkTimedSinkPipelined(t *testing.T) {
	c := dial(t, bulkServer(t))
	const w, n = 1 << 20, 5_000_011
	start := time.Now()
	// The second transfer is queued before the first is answered: the
	// service reads its header as soon as the first one's last byte is in.
	c.Write(BulkHeader(BulkModeTimedSink, w, 1))
	writeData(t, c, NewBulkData(1, w), w)
	c.Write(BulkHeader(BulkModeTimedSink, n, 2))
	writeData(t, c, NewBulkData(2, n), n)
	for _, want := range []int64{w, n} {
		tr, err := ReadBulkTrailer(c, BulkModeTimedSink)
		if err != nil || tr.Received != want || tr.FirstWrong != -1 {
			t.Fatalf("trailer %+v, %v; want %d bytes intact", tr, err, want)
		}
		// The service's interval lies inside the client's, on one clock.
		if outer := time.Since(start); tr.Elapsed <= 0 || tr.Elapsed > outer {
			t.Fatalf("service timed %d bytes in %v, want more than 0 and at most the client's %v", want, tr.Elapsed, outer)
		}
	}
}

// lockedBuffer is a log sink shared by the service's goroutines and the test.
type lockedBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestBulkTimedSinkEndsAtHalfClose(t *testing.T) {
	var log lockedBuffer
	addr := start(t, Config{Services: []device.Service{{Kind: "bulk"}}, Log: slog.New(slog.NewTextHandler(&log, nil))})["bulk:0"]
	c := dial(t, addr)
	const n = 3_000_017
	c.Write(BulkHeader(BulkModeTimedSink, 1<<50, 5)) // "as long as I keep sending"
	writeData(t, c, NewBulkData(5, 1<<50), n)
	c.(*net.TCPConn).CloseWrite()
	tr, err := ReadBulkTrailer(c, BulkModeTimedSink)
	if err != nil || tr.Received != n || tr.FirstWrong != -1 || tr.Elapsed <= 0 {
		t.Fatalf("trailer %+v, %v; want %d bytes intact with a time", tr, err, n)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if rest, err := io.ReadAll(c); err != nil || len(rest) != 0 {
		t.Fatalf("after the trailer: %x, %v; want EOF", rest, err)
	}
	// The service logged the connection's end before closing it.
	if strings.Contains(log.String(), "connection ended") {
		t.Fatalf("a half-close ending a timed transfer was logged as a failure:\n%s", log.String())
	}
}

func TestBulkTimedSinkNamesFirstWrongByte(t *testing.T) {
	const n, at = 6 << 20, 4_500_007
	c := dial(t, mangleProxy(t, bulkServer(t), flipAt(bulkHeaderLen+at), nil))
	c.Write(BulkHeader(BulkModeTimedSink, n, 3))
	writeData(t, c, NewBulkData(3, n), n)
	tr, err := ReadBulkTrailer(c, BulkModeTimedSink)
	if err != nil || tr.FirstWrong != at {
		t.Fatalf("trailer %+v, %v; want the first wrong byte at %d", tr, err, at)
	}
}

func TestBulkVerifierMatchesData(t *testing.T) {
	const n = bulkPeriod + 1000
	d := NewBulkData(8, n)
	if !bytes.Equal(d.At(0, 64), newPattern(8, n)[:64]) {
		t.Fatal("BulkData differs from the service's data")
	}
	v := NewBulkVerifier(8, n)
	for off := int64(0); off < n; {
		b := bytes.Clone(d.At(off, min(100_000, n-off)))
		if off <= bulkPeriod+10 && bulkPeriod+10 < off+int64(len(b)) {
			b[bulkPeriod+10-off] ^= 1 // past the period: the repeat is checked too
		}
		v.Check(b)
		off += int64(len(b))
	}
	if v.Checked() != n || v.FirstWrong() != bulkPeriod+10 {
		t.Fatalf("checked %d, first wrong %d; want %d, %d", v.Checked(), v.FirstWrong(), n, bulkPeriod+10)
	}
}

func TestBulkHeaderRoundTrips(t *testing.T) {
	for _, m := range []BulkMode{BulkModeSink, BulkModeGenerate, BulkModeEcho, BulkModeTimedSink} {
		h, err := parseBulkHeader(BulkHeader(m, 77, 9))
		if err != nil || h != (bulkHeader{mode: byte(m), length: 77, seed: 9}) {
			t.Fatalf("mode %c: %+v, %v", m, h, err)
		}
	}
}
