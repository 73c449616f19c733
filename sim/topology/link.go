package topology

import (
	"fmt"
	"math"
	"strconv"
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

var rateUnits = []struct {
	suffix string
	mult   uint64
}{{"gbit", 1e9}, {"mbit", 1e6}, {"kbit", 1e3}, {"bit", 1}}

// maxRate bounds a link's rate: 1 Tbit/s is far beyond what the lab can
// move, and keeps the rate a whole number of bit/s the emulator can take.
const maxRate = 1e12

func parseRate(s string) (uint64, error) {
	if s == "" {
		return 0, nil
	}
	for _, u := range rateUnits {
		if num, ok := strings.CutSuffix(strings.ToLower(s), u.suffix); ok {
			v, err := strconv.ParseFloat(num, 64)
			// NaN fails every comparison, so test for the valid range.
			if err != nil || !(v > 0 && v*float64(u.mult) >= 1 && v*float64(u.mult) <= maxRate) {
				break
			}
			return uint64(math.Round(v * float64(u.mult))), nil
		}
	}
	return 0, fmt.Errorf("rate %q: want a number with unit bit, kbit, mbit or gbit, from 1bit to 1000gbit, such as 50mbit", s)
}

func parseDelay(field, s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 || d > 10*time.Second {
		return 0, fmt.Errorf("%s %q: want a duration from 0 to 10s, such as 20ms", field, s)
	}
	return d, nil
}

func parseLoss(s string) (float64, error) {
	if s == "" {
		return 0, nil
	}
	num, ok := strings.CutSuffix(s, "%")
	v, err := strconv.ParseFloat(num, 64)
	// NaN fails every comparison, so test for the valid range.
	if !ok || err != nil || !(v >= 0 && v <= 100) {
		return 0, fmt.Errorf("loss %q: want a percentage from 0%% to 100%%, such as 1%%", s)
	}
	return v, nil
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
