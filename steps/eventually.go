package steps

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// eventually calls try every interval until it returns nil, ctx ends or
// timeout passes. try returns why the condition does not hold yet; the
// error after the timeout wraps the last of those, so a failed step says
// what it last saw rather than only that it waited.
func eventually(ctx context.Context, timeout, interval time.Duration, try func() error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		last := try()
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("after %s: %w", timeout, last)
			}
			return errors.Join(ctx.Err(), last)
		case <-time.After(interval):
		}
	}
}
