package bench

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/c2clab/c2clab/sim/measure"
)

// maxLoadedRun bounds the bulk stream behind a latency-under-load probe;
// the probe ends it long before.
const maxLoadedRun = 5 * time.Minute

// underLoad takes round trips on path while a bulk stream runs each way on
// another connection of the same path (flent's RRUL, one flow): the
// latency a user meets while a file copy fills the relay's buffers. Every
// byte of both is checked; the stream is cut when the probe is done.
func (b *bench) underLoad(ctx context.Context, path string, count int, seed uint64) (measure.Distribution, error) {
	bulk, err := b.bulk[path](ctx)
	if err != nil {
		return measure.Distribution{}, err
	}
	defer bulk.Close()
	bulkCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := measure.Throughput(bulkCtx, bulk, measure.ThroughputConfig{Direction: measure.Both, Duration: maxLoadedRun, Seed: seed})
		done <- err
	}()
	conn, err := b.echo[path](ctx)
	if err != nil {
		return measure.Distribution{}, err
	}
	defer conn.Close()
	// Let the stream pass its warm-up and fill the path first.
	if err := sleepCtx(ctx, 300*time.Millisecond); err != nil {
		return measure.Distribution{}, err
	}
	r, lerr := measure.Latency(ctx, conn, measure.LatencyConfig{Count: count, Seed: seed + 1})
	cancel()
	berr := <-done
	if berr != nil && !errors.Is(berr, context.Canceled) {
		// The stream failed on its own, before the probe ended: a
		// wrong byte or a broken relay.
		return measure.Distribution{}, fmt.Errorf("bulk stream each way: %w", berr)
	}
	return r.RoundTrips, lerr
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
