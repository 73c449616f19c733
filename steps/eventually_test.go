package steps

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestEventually(t *testing.T) {
	n := 0
	if err := eventually(context.Background(), time.Second, time.Millisecond, func() error {
		if n++; n < 3 {
			return errors.New("not yet")
		}
		return nil
	}); err != nil || n != 3 {
		t.Fatalf("eventually = %v after %d tries, want nil after 3", err, n)
	}
	last := errors.New("the record is Open")
	err := eventually(context.Background(), 20*time.Millisecond, time.Millisecond, func() error { return last })
	if !errors.Is(err, last) || !strings.Contains(err.Error(), "after 20ms") {
		t.Fatalf("timed out: %v, want the last error and the timeout", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := eventually(ctx, time.Second, time.Millisecond, func() error { return last }); !errors.Is(err, context.Canceled) || !errors.Is(err, last) {
		t.Fatalf("cancelled: %v, want context.Canceled and the last error", err)
	}
}
