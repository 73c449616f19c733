package linkemu

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// field is one key of the Parse syntax: how to set it and how to print it.
type field struct {
	name    string
	accepts string // for errors: what a value looks like
	set     func(im *Impairments, v string) error
	get     func(im Impairments) (string, bool) // false: key absent
}

// fields lists every key, registered here explicitly in print order.
func fields() []field {
	return []field{
		{"rate", "a rate like 50mbit (units bit, kbit, mbit, gbit; 1000-based)",
			func(im *Impairments, v string) error { return parseRate(v, &im.Rate.BitsPerSecond) },
			func(im Impairments) (string, bool) { return fmtRate(im.Rate.BitsPerSecond), im.Rate.BitsPerSecond > 0 }},
		{"burst", "a size like 32kb (units b, kb, mb; 1024-based)",
			func(im *Impairments, v string) error { return parseSize(v, &im.Rate.Burst) },
			func(im Impairments) (string, bool) { return fmtSize(im.Rate.Burst), im.Rate.Burst > 0 }},
		{"queue", "a size like 256kb (units b, kb, mb; 1024-based)",
			func(im *Impairments, v string) error { return parseSize(v, &im.Rate.QueueBytes) },
			func(im Impairments) (string, bool) { return fmtSize(im.Rate.QueueBytes), im.Rate.QueueBytes > 0 }},
		{"delay", "a duration >= 0 like 20ms",
			func(im *Impairments, v string) error { return parseDur(v, &im.Delay.Mean) },
			func(im Impairments) (string, bool) { return im.Delay.Mean.String(), im.Delay.Mean > 0 }},
		{"jitter", "a duration >= 0 like 2ms",
			func(im *Impairments, v string) error { return parseDur(v, &im.Delay.Jitter) },
			func(im Impairments) (string, bool) { return im.Delay.Jitter.String(), im.Delay.Jitter > 0 }},
		{"dist", "uniform or normal",
			func(im *Impairments, v string) error { return parseDist(v, &im.Delay.Distribution) },
			func(im Impairments) (string, bool) { return string(im.Delay.Distribution), im.Delay.Distribution != "" }},
		{"reorder", "true or false",
			func(im *Impairments, v string) (err error) { im.Delay.Reorder, err = strconv.ParseBool(v); return err },
			func(im Impairments) (string, bool) { return "true", im.Delay.Reorder }},
		{"loss", "a percentage like 1% or a fraction like 0.01, between 0 and 1",
			func(im *Impairments, v string) error { return parseLoss(v, &im.Loss.Probability) },
			func(im Impairments) (string, bool) { return fmtLoss(im.Loss.Probability), im.Loss.Probability > 0 }},
	}
}

// Parse reads impairments written as comma-separated key=value pairs, for
// example "rate=50mbit,delay=20ms,jitter=2ms,loss=1%". An empty string is
// no impairment. Errors name the field and what it accepts.
func Parse(s string) (Impairments, error) {
	var im Impairments
	s = strings.TrimSpace(s)
	if s == "" {
		return im, nil
	}
	seen := map[string]bool{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			return Impairments{}, fmt.Errorf("impairments %q: %q: want key=value: %w", s, kv, ErrConfig)
		}
		if err := setField(&im, k, v, seen); err != nil {
			return Impairments{}, fmt.Errorf("impairments %q: %w", s, err)
		}
	}
	return im, nil
}

func setField(im *Impairments, k, v string, seen map[string]bool) error {
	for _, f := range fields() {
		if f.name != k {
			continue
		}
		if seen[k] {
			return fmt.Errorf("field %q given twice: %w", k, ErrConfig)
		}
		seen[k] = true
		if err := f.set(im, v); err != nil {
			return fmt.Errorf("field %q: got %q, want %s: %w", k, v, f.accepts, ErrConfig)
		}
		return nil
	}
	names := make([]string, 0, 8)
	for _, f := range fields() {
		names = append(names, f.name)
	}
	return fmt.Errorf("unknown field %q: want one of %s: %w", k, strings.Join(names, ", "), ErrConfig)
}

// String prints im in the Parse syntax; "" for no impairment.
func (im Impairments) String() string {
	var parts []string
	for _, f := range fields() {
		if v, ok := f.get(im); ok {
			parts = append(parts, f.name+"="+v)
		}
	}
	return strings.Join(parts, ",")
}

// MarshalText implements encoding.TextMarshaler with the Parse syntax.
func (im Impairments) MarshalText() ([]byte, error) { return []byte(im.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with Parse.
func (im *Impairments) UnmarshalText(b []byte) error {
	v, err := Parse(string(b))
	if err != nil {
		return err
	}
	*im = v
	return nil
}

// ParseRate reads one rate value of the Parse syntax ("50mbit"; units bit,
// kbit, mbit, gbit, 1000-based; no unit is bit/s) as bit/s. It is the
// one rate parser: sim/topology adds its limits on top.
func ParseRate(v string) (uint64, error) {
	var bps uint64
	return bps, parseRate(strings.TrimSpace(v), &bps)
}

// ParseDuration reads one delay or jitter value of the Parse syntax (a Go
// duration >= 0, "20ms").
func ParseDuration(v string) (time.Duration, error) {
	var d time.Duration
	return d, parseDur(strings.TrimSpace(v), &d)
}

// ParseLoss reads one loss value of the Parse syntax ("1%" or the
// fraction 0.01) as a probability from 0 to 1.
func ParseLoss(v string) (float64, error) {
	var p float64
	return p, parseLoss(strings.TrimSpace(v), &p)
}

// errValue is wrapped by setField into a message naming the field.
var errValue = errors.New("bad value")

func splitUnit(v string) (num, unit string) {
	i := strings.IndexFunc(v, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 {
		return v, ""
	}
	return v[:i], strings.ToLower(v[i:])
}

// scaled parses num*mult as a whole, positive-or-zero uint64.
func scaled(num string, mult uint64, out *uint64) error {
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || f*float64(mult) >= math.MaxUint64/2 {
		return errValue
	}
	*out = uint64(math.Round(f * float64(mult)))
	return nil
}

// parseRate refuses a rate that is not a whole number of bit/s ("0.5bit"):
// the emulator paces whole bits.
func parseRate(v string, out *uint64) error {
	num, unit := splitUnit(v)
	mult := map[string]uint64{"": 1, "bit": 1, "kbit": 1e3, "mbit": 1e6, "gbit": 1e9}[unit]
	if mult == 0 {
		return errValue
	}
	if f, err := strconv.ParseFloat(num, 64); err == nil && math.Abs(f*float64(mult)-math.Round(f*float64(mult))) > 1e-6 {
		return errValue
	}
	return scaled(num, mult, out)
}

func fmtRate(bps uint64) string {
	for _, u := range []struct {
		name string
		mult uint64
	}{{"gbit", 1e9}, {"mbit", 1e6}, {"kbit", 1e3}} {
		if bps%u.mult == 0 {
			return strconv.FormatUint(bps/u.mult, 10) + u.name
		}
	}
	return strconv.FormatUint(bps, 10) + "bit"
}

func parseSize(v string, out *uint64) error {
	num, unit := splitUnit(v)
	mult := map[string]uint64{"": 1, "b": 1, "kb": 1 << 10, "mb": 1 << 20}[unit]
	if mult == 0 {
		return errValue
	}
	return scaled(num, mult, out)
}

func fmtSize(n uint64) string {
	switch {
	case n%(1<<20) == 0:
		return strconv.FormatUint(n>>20, 10) + "mb"
	case n%(1<<10) == 0:
		return strconv.FormatUint(n>>10, 10) + "kb"
	}
	return strconv.FormatUint(n, 10) + "b"
}

func parseDur(v string, out *time.Duration) error {
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return errValue
	}
	*out = d
	return nil
}

func parseDist(v string, out *Distribution) error {
	switch d := Distribution(strings.ToLower(v)); d {
	case Uniform, Normal:
		*out = d
		return nil
	}
	return errValue
}

func parseLoss(v string, out *float64) error {
	num, pct := strings.CutSuffix(v, "%")
	f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if pct {
		f /= 100
	}
	if err != nil || math.IsNaN(f) || f < 0 || f > 1 {
		return errValue
	}
	*out = f
	return nil
}

func fmtLoss(p float64) string {
	return strconv.FormatFloat(p*100, 'g', -1, 64) + "%"
}
