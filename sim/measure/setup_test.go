package measure

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/c2clab/c2clab/sim/endpoint"
)

func TestSetup(t *testing.T) {
	_, echo := services(t)
	r, err := Setup(testCtx(t), dialer(echo), SetupConfig{Count: 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", r)
	d, f := r.Dial, r.FirstByte
	if d.Count != 20 || f.Count != 20 {
		t.Fatalf("%d dials, %d first bytes recorded, want 20 each", d.Count, f.Count)
	}
	// Each connection's first byte comes after its dial returned, so every
	// order statistic of the first bytes is at least the dials' one.
	if f.Min < d.Min || f.P50 < d.P50 || f.P90 < d.P90 || f.Max < d.Max {
		t.Fatalf("first byte %s\nbefore dial %s", f, d)
	}
}

// TestSetupWaitsForTheService puts a proxy in front of the echo service
// that holds back each answer: the dial returns at once, the first byte
// only after the delay.
func TestSetupWaitsForTheService(t *testing.T) {
	_, echo := services(t)
	const delay = 30 * time.Millisecond
	slow := func(int) (hook, hook) {
		return nil, func(dst io.Writer, b []byte, off int64) error {
			if off == 0 {
				time.Sleep(delay)
			}
			_, err := dst.Write(b)
			return err
		}
	}
	r, err := Setup(testCtx(t), dialer(proxy(t, echo, slow)), SetupConfig{Count: 5})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", r)
	if r.FirstByte.Min < delay {
		t.Fatalf("first byte after %v at the least, want at least the service's %v", r.FirstByte.Min, delay)
	}
}

func TestSetupStopsAtFirstFailure(t *testing.T) {
	_, echo := services(t)
	var calls atomic.Int32
	dial := func(ctx context.Context) (net.Conn, error) {
		if calls.Add(1) == 3 {
			return nil, errors.New("refused")
		}
		return dialer(echo)(ctx)
	}
	r, err := Setup(testCtx(t), dial, SetupConfig{Count: 10})
	if err == nil || !strings.Contains(err.Error(), "connection 2: dial: refused") || r.FirstByte.Count != 2 {
		t.Fatalf("got %s, %v; want 2 measured and connection 2's dial refused", r, err)
	}
}

func TestSetupNamesFirstWrongByte(t *testing.T) {
	_, echo := services(t)
	flip := func(i int) (hook, hook) {
		if i == 1 {
			return nil, flipAt(7)
		}
		return nil, nil
	}
	_, err := Setup(testCtx(t), dialer(proxy(t, echo, flip)), SetupConfig{Count: 3})
	var ce *endpoint.CorruptError
	if !errors.As(err, &ce) || ce.Offset != 7 || !strings.Contains(err.Error(), "connection 1") {
		t.Fatalf("got %v, want connection 1's byte 7 wrong", err)
	}
}
