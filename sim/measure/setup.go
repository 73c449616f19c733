package measure

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/c2clab/c2clab/sim/endpoint"
)

// Defaults of SetupConfig and OpenLoopConfig.
const (
	DefaultSetupCount = 100
	DefaultSetupSize  = 32
)

// SetupConfig configures Setup. The zero value opens 100 connections, one
// after another, each echoing 32 bytes.
type SetupConfig struct {
	// Count is how many connections are opened. Zero: DefaultSetupCount.
	Count int `json:"count,omitempty"`
	// Size is the bytes each connection sends and checks coming back.
	// Zero: DefaultSetupSize.
	Size int `json:"size_bytes,omitempty"`
	// Seed selects the bytes.
	Seed uint64 `json:"seed"`
}

// SetupResult is what Setup measured.
type SetupResult struct {
	Size int `json:"size_bytes"`
	// Dial runs from starting the dial to the dial function's return. A
	// relay may return before the destination is reached (a SOCKS5 reply
	// sent early), so this alone does not show the destination ready.
	Dial Distribution `json:"dial"`
	// FirstByte runs from starting the dial to the first byte of the
	// answer from the destination service: connection setup, end to end,
	// including the one round trip the first request takes.
	FirstByte Distribution `json:"first_byte"`
}

func (r SetupResult) String() string {
	return fmt.Sprintf("setup, %d connections one after another:\n  to the first byte from the service: %s\n  to the dial's return: %s",
		r.FirstByte.Count, r.FirstByte, r.Dial)
}

// Setup opens cfg.Count connections with dial, one after another; on each
// it sends cfg.Size bytes to the echo service behind it, checks that they
// come back, and closes it. It stops at the first failure, returning what
// it measured so far; a wrong byte gives an *endpoint.CorruptError with
// its offset in that connection's stream.
func Setup(ctx context.Context, dial Dialer, cfg SetupConfig) (SetupResult, error) {
	if cfg.Count < 0 || cfg.Size < 0 {
		return SetupResult{}, fmt.Errorf("setup: count %d, size %d: want neither negative", cfg.Count, cfg.Size)
	}
	if cfg.Count == 0 {
		cfg.Count = DefaultSetupCount
	}
	if cfg.Size == 0 {
		cfg.Size = DefaultSetupSize
	}
	dialH, firstH := newHistogram(), newHistogram()
	result := func() SetupResult {
		return SetupResult{Size: cfg.Size, Dial: distribution(dialH), FirstByte: distribution(firstH)}
	}
	for i := range cfg.Count {
		msg := payload(cfg.Seed, uint64(i), cfg.Size)
		t, err := exchange(ctx, dial, msg, time.Now())
		if err != nil {
			return result(), fmt.Errorf("setup: connection %d: %w", i, err)
		}
		recordIn(dialH, t.dial, 0)
		recordIn(firstH, t.firstByte, 0)
	}
	return result(), nil
}

// setupTimes are one connection's times from when it was due.
type setupTimes struct{ dial, firstByte time.Duration }

// exchange dials, sends msg to the echo service and checks that it comes
// back, timing from due.
func exchange(ctx context.Context, dial Dialer, msg []byte, due time.Time) (setupTimes, error) {
	var t setupTimes
	conn, err := dial(ctx)
	if err != nil {
		return t, fmt.Errorf("dial: %w", ctxErr(ctx, err))
	}
	defer conn.Close()
	t.dial = time.Since(due)
	defer watch(ctx, conn)()
	if _, err := conn.Write(msg); err != nil {
		return t, fmt.Errorf("write: %w", ctxErr(ctx, err))
	}
	back := make([]byte, len(msg))
	n, err := io.ReadFull(conn, back[:1])
	if err == nil {
		t.firstByte = time.Since(due)
		var k int
		k, err = io.ReadFull(conn, back[1:])
		n += k
	}
	if j := firstDiff(msg[:n], back[:n]); j >= 0 {
		return t, &endpoint.CorruptError{Offset: int64(j), Side: "probe"}
	}
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return t, fmt.Errorf("%d of %d bytes came back: %w", n, len(msg), endpoint.ErrShort)
	}
	if err != nil {
		return t, fmt.Errorf("read: %w", ctxErr(ctx, err))
	}
	return t, nil
}
