package bench

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strings"
)

//go:embed bench.html.tmpl
var pageSource string

// colors of the paths in the plots, in References order after the relay.
var colors = map[string]string{PathRelay: "#cf222e", PathDirect: "#1a7f37", PathSplice: "#0969da", PathSocat: "#8250df"}

// WriteHTML writes the run as one self-contained page (inline CSS and SVG,
// no scripts): per cell a bar per path (median, whisker from the slowest to
// the fastest run), the ratio table, and the round-trip CDF of every path.
func (r Result) WriteHTML(w io.Writer) error {
	page, err := template.New("page").Parse(pageSource)
	if err != nil {
		return fmt.Errorf("bench html: %w", err)
	}
	var table strings.Builder
	if err := r.WriteTable(&table); err != nil {
		return err
	}
	cdf, err := r.cdfPlot()
	if err != nil {
		return err
	}
	v := struct {
		Result
		Table string
		Bars  []barPlot
		CDF   linePlot
	}{r, table.String(), r.barPlots(), cdf}
	var buf bytes.Buffer
	if err := page.Execute(&buf, v); err != nil {
		return fmt.Errorf("bench html: %w", err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// barPlot is one cell: a bar per path, coordinates ready for the SVG.
type barPlot struct {
	Title        string
	Bars         []bar
	Ticks        []tick
	Axis, Height float64 // y of the tick labels, height of the SVG
}

type bar struct {
	Path, Color, Label string
	Y, Width           float64 // the bar, horizontal
	Mid, Lo, Hi        float64 // the whisker: its y, its ends
}

type tick struct {
	At    float64
	Label string
}

// Bar plot geometry: labels left of x0, bars up to x0+plotW.
const (
	x0, plotW = 70.0, 560.0
	barH      = 22.0
)

func (r Result) barPlots() []barPlot {
	var out []barPlot
	for _, c := range r.Cells {
		max := 0.0
		for _, p := range r.Available() {
			max = math.Max(max, slices.Max(append(c.Bits(p), 0)))
		}
		scale := niceCeil(max / 1e6)
		bp := barPlot{Title: fmt.Sprintf("%s per stream, %d stream(s): Mbit/s, median of %d runs", mib(c.Size), c.Streams, r.Count)}
		for i, p := range r.Available() {
			bits := c.Bits(p)
			if len(bits) == 0 {
				continue
			}
			x := func(v float64) float64 { return x0 + v/1e6/scale*plotW }
			bp.Bars = append(bp.Bars, bar{Path: p, Color: colors[p], Label: fmt.Sprintf("%.0f", Median(bits)/1e6),
				Y: 10 + float64(i)*(barH+8), Mid: 10 + float64(i)*(barH+8) + barH/2, Width: x(Median(bits)) - x0, Lo: x(slices.Min(bits)), Hi: x(slices.Max(bits))})
		}
		bp.Axis = 10 + float64(len(bp.Bars))*(barH+8) + 14
		bp.Height = bp.Axis + 10
		for i := range 5 {
			v := scale * float64(i) / 4
			bp.Ticks = append(bp.Ticks, tick{At: x0 + plotW*float64(i)/4, Label: fmt.Sprintf("%.0f", v)})
		}
		out = append(out, bp)
	}
	return out
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// linePlot is the latency CDF: x is the round trip on a log scale, y the
// percentile.
type linePlot struct {
	Lines []line
	Ticks []tick
}

type line struct {
	Path, Color, Points string
	LegendY             float64
}

// CDF plot geometry.
const cdfW, cdfH = 560.0, 260.0

func (r Result) cdfPlot() (linePlot, error) {
	lo, hi := math.Inf(1), 0.0
	for _, p := range r.Available() {
		d := r.RoundTrips[p]
		lo, hi = math.Min(lo, float64(d.Min)), math.Max(hi, float64(d.Max))
	}
	if hi <= 0 || lo <= 0 {
		return linePlot{}, nil
	}
	lmin, lmax := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	x := func(ns float64) float64 { return x0 + (math.Log10(ns)-lmin)/(lmax-lmin)*cdfW }
	var lp linePlot
	for i, p := range r.Available() {
		pts, err := r.RoundTrips[p].CDF()
		if err != nil {
			return lp, fmt.Errorf("bench html: %s round trips: %w", p, err)
		}
		var sb strings.Builder
		for _, pt := range pts {
			fmt.Fprintf(&sb, "%.1f,%.1f ", x(float64(pt.Value)), 10+cdfH*(1-pt.Percentile/100))
		}
		lp.Lines = append(lp.Lines, line{Path: p, Color: colors[p], Points: sb.String(), LegendY: 24 + float64(i)*16})
	}
	for e := lmin; e <= lmax; e++ {
		lp.Ticks = append(lp.Ticks, tick{At: x(math.Pow(10, e)), Label: durationLabel(math.Pow(10, e))})
	}
	return lp, nil
}

func durationLabel(ns float64) string {
	switch {
	case ns >= 1e9:
		return fmt.Sprintf("%gs", ns/1e9)
	case ns >= 1e6:
		return fmt.Sprintf("%gms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%gus", ns/1e3)
	}
	return fmt.Sprintf("%gns", ns)
}
