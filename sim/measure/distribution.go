package measure

import (
	"fmt"
	"strings"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// The histograms record nanoseconds from 1 ns to a minute with three
// significant digits (a 20 µs round trip is kept to within 20 ns). A longer
// value is recorded as a minute: no probe waits that long for one answer.
const (
	histLowest  = 1
	histHighest = int64(time.Minute)
	histDigits  = 3
)

func newHistogram() *hdr.Histogram { return hdr.New(histLowest, histHighest, histDigits) }

// recordIn records d in h, corrected for coordinated omission when expected
// (the interval at which the probe meant to send) is positive: a value that
// held up the sender for k intervals also stands for the k requests it could
// not send, as HdrHistogram's RecordCorrectedValue does.
func recordIn(h *hdr.Histogram, d, expected time.Duration) {
	v := min(max(d.Nanoseconds(), histLowest), histHighest)
	if expected > 0 {
		h.RecordCorrectedValue(v, expected.Nanoseconds()) // cannot fail: v is in range
		return
	}
	h.RecordValue(v) // cannot fail: v is in range
}

// Distribution summarises durations recorded in an HDR histogram. The
// percentiles are the histogram's: each within 0.1% of a recorded value.
type Distribution struct {
	Count int64         `json:"count"`
	Min   time.Duration `json:"min_ns"`
	Mean  time.Duration `json:"mean_ns"`
	P50   time.Duration `json:"p50_ns"`
	P90   time.Duration `json:"p90_ns"`
	P99   time.Duration `json:"p99_ns"`
	P999  time.Duration `json:"p99_9_ns"`
	Max   time.Duration `json:"max_ns"`
	// Histogram is the whole histogram in HdrHistogram's V2 compressed
	// encoding, base64, as HdrHistogram's log files carry it, in
	// nanoseconds: for CDF plots (CDF), merging, or HdrHistogram's tools.
	Histogram string `json:"hdr_histogram"`
}

// distribution summarises h.
func distribution(h *hdr.Histogram) Distribution {
	enc, err := h.Encode(hdr.V2CompressedEncodingCookieBase)
	if err != nil {
		// Unreachable: the encoding writes to memory, in a version the
		// package supports.
		panic(fmt.Sprintf("measure: encode histogram: %v", err))
	}
	d := Distribution{Count: h.TotalCount(), Histogram: string(enc)}
	if d.Count == 0 {
		return d
	}
	ns := func(v int64) time.Duration { return time.Duration(v) }
	p := h.ValueAtPercentilesSlice([]float64{50, 90, 99, 99.9})
	d.Min, d.Mean, d.Max = ns(h.Min()), ns(int64(h.Mean())), ns(h.Max())
	d.P50, d.P90, d.P99, d.P999 = ns(p[0]), ns(p[1]), ns(p[2]), ns(p[3])
	return d
}

// Point is one point of a cumulative distribution: Percentile percent of
// the recorded values are at most Value.
type Point struct {
	Value      time.Duration `json:"value_ns"`
	Percentile float64       `json:"percentile"`
}

// CDF returns the cumulative distribution, denser towards the tail (five
// points per halving of the distance to 100%), ending at 100% and Max.
func (d Distribution) CDF() ([]Point, error) {
	h, err := d.histogram()
	if err != nil {
		return nil, err
	}
	var pts []Point
	for _, b := range h.CumulativeDistributionWithTicks(5) {
		pts = append(pts, Point{Value: time.Duration(b.ValueAt), Percentile: b.Quantile})
	}
	return pts, nil
}

func (d Distribution) histogram() (*hdr.Histogram, error) {
	h, err := hdr.Decode([]byte(d.Histogram))
	if err != nil {
		return nil, fmt.Errorf("measure: decode histogram: %w", err)
	}
	return h, nil
}

func (d Distribution) String() string {
	if d.Count == 0 {
		return "no samples"
	}
	return fmt.Sprintf("%d samples: min %s, p50 %s, p90 %s, p99 %s, p99.9 %s, max %s",
		d.Count, short(d.Min), short(d.P50), short(d.P90), short(d.P99), short(d.P999), short(d.Max))
}

// short rounds d to three significant digits, for people.
func short(d time.Duration) time.Duration {
	unit := time.Duration(1)
	for v := d; v >= 1000; v /= 10 {
		unit *= 10
	}
	return d.Round(unit)
}

// formatBytes writes n in binary units, for people.
func formatBytes(n int64) string {
	const units = "KMGTPE"
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n)/1024, 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return fmt.Sprintf("%.2f %ciB", v, units[i])
}

// indent prefixes every line of s but the first with two spaces.
func indent(s string) string { return strings.ReplaceAll(s, "\n", "\n  ") }
