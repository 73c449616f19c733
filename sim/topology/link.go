package topology

import (
	"fmt"
	"strings"
	"time"

	"github.com/c2clab/c2clab/sim/linkemu"
)

// Link is the impairment of a node's attachment, applied both ways. The
// zero value is an unimpaired link.
type Link struct {
	// Rate such as "50mbit", "512kbit", "1gbit"; empty: unlimited.
	Rate string `yaml:"rate"`
	// Delay and Jitter such as "20ms": one way, so a round trip through
	// this link gains twice the delay.
	Delay  string `yaml:"delay"`
	Jitter string `yaml:"jitter"`
	// Loss such as "1%", per direction.
	Loss string `yaml:"loss"`

	// Parsed values, set by validation.
	RateBits    uint64        `yaml:"-"`
	DelayDur    time.Duration `yaml:"-"`
	JitterDur   time.Duration `yaml:"-"`
	LossPercent float64       `yaml:"-"`
}

// Impaired reports whether the link changes anything.
func (l Link) Impaired() bool {
	return l.RateBits > 0 || l.DelayDur > 0 || l.JitterDur > 0 || l.LossPercent > 0
}

func (l *Link) parse() error {
	var err error
	if l.RateBits, err = parseRate(l.Rate); err != nil {
		return err
	}
	if l.DelayDur, err = parseDelay("delay", l.Delay); err != nil {
		return err
	}
	if l.JitterDur, err = parseDelay("jitter", l.Jitter); err != nil {
		return err
	}
	if l.JitterDur > l.DelayDur {
		return fmt.Errorf("jitter %s is larger than delay %s; want jitter <= delay", l.Jitter, l.Delay)
	}
	l.LossPercent, err = parseLoss(l.Loss)
	return err
}

// maxRate bounds a link's rate: 1 Tbit/s is far beyond what the lab can
// move, and keeps the rate a whole number of bit/s the emulator can take.
const maxRate = 1e12

// maxDelay bounds a link's delay and jitter.
const maxDelay = 10 * time.Second

// parseRate, parseDelay and parseLoss read values with linkemu's parser
// (the one syntax of impairments) and add a topology's limits on top: a
// rate needs its unit and lies from 1bit to 1000gbit, delay and jitter
// lie from 0 to 10s, and loss is written as a percentage.
func parseRate(s string) (uint64, error) {
	if s == "" {
		return 0, nil
	}
	v, err := linkemu.ParseRate(s)
	if err != nil || v < 1 || v > maxRate || !hasUnit(s) {
		return 0, fmt.Errorf("rate %q: want a number with unit bit, kbit, mbit or gbit, from 1bit to 1000gbit, such as 50mbit", s)
	}
	return v, nil
}

func hasUnit(s string) bool {
	return strings.HasSuffix(strings.ToLower(strings.TrimSpace(s)), "bit")
}

func parseDelay(field, s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := linkemu.ParseDuration(s)
	if err != nil || d > maxDelay {
		return 0, fmt.Errorf("%s %q: want a duration from 0 to 10s, such as 20ms", field, s)
	}
	return d, nil
}

// parseLoss returns the loss in percent.
func parseLoss(s string) (float64, error) {
	if s == "" {
		return 0, nil
	}
	p, err := linkemu.ParseLoss(s)
	if err != nil || !strings.HasSuffix(strings.TrimSpace(s), "%") {
		return 0, fmt.Errorf("loss %q: want a percentage from 0%% to 100%%, such as 1%%", s)
	}
	return p * 100, nil
}

// Impairments is the link as the emulator takes it, the same both ways.
func (l Link) Impairments() linkemu.Impairments {
	return linkemu.Impairments{
		Rate:  linkemu.Rate{BitsPerSecond: l.RateBits},
		Delay: linkemu.Delay{Mean: l.DelayDur, Jitter: l.JitterDur},
		Loss:  linkemu.Loss{Probability: l.LossPercent / 100},
	}
}

// Parsed checks the link's fields and returns its impairments.
func (l Link) Parsed() (linkemu.Impairments, error) {
	if err := l.parse(); err != nil {
		return linkemu.Impairments{}, err
	}
	return l.Impairments(), nil
}
