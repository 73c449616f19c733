package linkemu

import (
	"errors"
	"fmt"
)

// Impairments is what one direction of a link does to frames. The zero
// value is a perfect link. It marshals as the Parse syntax, for example
// "rate=50mbit,delay=20ms,jitter=2ms,loss=1%", in JSON and YAML.
type Impairments struct {
	Rate  Rate
	Delay Delay
	Loss  Loss
}

// IsZero reports whether im impairs nothing.
func (im Impairments) IsZero() bool {
	return !im.Rate.active() && !im.Delay.active() && !im.Loss.active()
}

// Config configures the forwarder (the `linkemu` node role). It bridges
// IfaceA and IfaceB at layer 2 with AtoB and BtoA applied per direction.
type Config struct {
	IfaceA string      `json:"ifaceA"`
	IfaceB string      `json:"ifaceB"`
	AtoB   Impairments `json:"atob"`
	BtoA   Impairments `json:"btoa"`
	// Seed seeds the random impairments (loss, jitter); 0 picks one, and
	// Run reports the seed in use so a run can be replayed.
	Seed int64 `json:"seed,omitempty"`
	// Netns is the path of a network namespace file (e.g.
	// /var/run/netns/NAME) to open the interfaces in; empty means the
	// namespace of the calling thread.
	Netns string `json:"netns,omitempty"`
}

// ErrConfig marks invalid configuration; errors.Is(err, ErrConfig).
var ErrConfig = errors.New("invalid link emulator config")

// Validate checks what Run cannot work without.
func (c Config) Validate() error {
	var errs []error
	if c.IfaceA == "" {
		errs = append(errs, fmt.Errorf("field ifaceA: want an interface name: %w", ErrConfig))
	}
	if c.IfaceB == "" {
		errs = append(errs, fmt.Errorf("field ifaceB: want an interface name: %w", ErrConfig))
	}
	if c.IfaceA != "" && c.IfaceA == c.IfaceB {
		errs = append(errs, fmt.Errorf("fields ifaceA, ifaceB: both %q, want two interfaces: %w", c.IfaceA, ErrConfig))
	}
	return errors.Join(errs...)
}
