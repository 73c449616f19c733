//go:build !linux

package linkemu

import (
	"context"
	"errors"
	"fmt"
)

// Run needs AF_PACKET sockets, which only Linux has.
func Run(ctx context.Context, cfg Config, ready func(map[string]string)) error {
	return fmt.Errorf("linkemu: %w", errors.ErrUnsupported)
}
