package bench

import (
	"fmt"
	"io"
	"text/tabwriter"

	"golang.org/x/perf/benchmath"
)

// Thresholds decide when a change of a ratio is a regression: it must be
// significant (Mann-Whitney U test, p < Alpha, as benchstat does) and
// larger than MaxDrop. The zero value means Alpha 0.05, MaxDrop 0.10.
type Thresholds struct {
	Alpha   float64 `json:"alpha"`
	MaxDrop float64 `json:"max_drop"` // fraction of the baseline's median
}

func (t Thresholds) withDefaults() Thresholds {
	if t.Alpha <= 0 {
		t.Alpha = 0.05
	}
	if t.MaxDrop <= 0 {
		t.MaxDrop = 0.10
	}
	return t
}

// Change is one ratio of the relay to a reference path in a baseline and a
// new run.
type Change struct {
	Name      string   `json:"name"` // e.g. "32MiB x1 relay/direct"
	Base, New Summary  `json:"-"`
	Delta     float64  `json:"delta"` // (new - base) / base of the medians
	P         float64  `json:"p"`
	Regressed bool     `json:"regressed"`
	Warnings  []string `json:"warnings,omitempty"`
}

// Summary is a median with its confidence interval.
type Summary struct {
	N              int
	Median, Lo, Hi float64
}

// Compare compares every relay ratio that both runs measured. Only the
// ratios are compared: they were taken on one machine in one run, so they
// carry over between machines where absolute rates do not.
func Compare(base, cur Result, t Thresholds) []Change {
	t = t.withDefaults()
	var out []Change
	for _, bc := range base.Cells {
		cc, ok := cur.cell(bc.Size, bc.Streams)
		if !ok {
			continue
		}
		for _, ref := range References {
			b, n := bc.Ratios(ref), cc.Ratios(ref)
			if len(b) == 0 || len(n) == 0 {
				continue
			}
			out = append(out, compareSamples(fmt.Sprintf("%s x%d relay/%s", mib(bc.Size), bc.Streams, ref), b, n, t))
		}
	}
	return out
}

func (r Result) cell(size int64, streams int) (Cell, bool) {
	for _, c := range r.Cells {
		if c.Size == size && c.Streams == streams {
			return c, true
		}
	}
	return Cell{}, false
}

// compareSamples is the decision: significant, and a drop beyond MaxDrop.
func compareSamples(name string, base, cur []float64, t Thresholds) Change {
	thr := &benchmath.Thresholds{CompareAlpha: t.Alpha}
	bs, ns := benchmath.NewSample(base, thr), benchmath.NewSample(cur, thr)
	cmp := benchmath.AssumeNothing.Compare(bs, ns)
	c := Change{Name: name, Base: summarize(bs), New: summarize(ns), P: cmp.P}
	if c.Base.Median != 0 {
		c.Delta = (c.New.Median - c.Base.Median) / c.Base.Median
	}
	for _, w := range cmp.Warnings {
		c.Warnings = append(c.Warnings, w.Error())
	}
	c.Regressed = cmp.P < t.Alpha && c.Delta < -t.MaxDrop
	return c
}

func summarize(s *benchmath.Sample) Summary {
	sum := benchmath.AssumeNothing.Summary(s, 0.95)
	return Summary{N: len(s.Values), Median: sum.Center, Lo: sum.Lo, Hi: sum.Hi}
}

// Regressed reports whether any change is a regression.
func Regressed(cs []Change) bool {
	for _, c := range cs {
		if c.Regressed {
			return true
		}
	}
	return false
}

// WriteChanges prints the comparison like benchstat: medians with their
// 95% confidence intervals, the change, p and n.
func WriteChanges(w io.Writer, cs []Change, t Thresholds) error {
	t = t.withDefaults()
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ratio\tbaseline median [95% CI]\tnew median [95% CI]\tchange\tp (n)\tverdict")
	for _, c := range cs {
		verdict := "ok"
		switch {
		case c.Regressed:
			verdict = fmt.Sprintf("REGRESSION (significant, beyond -%.0f%%)", t.MaxDrop*100)
		case c.P >= t.Alpha:
			verdict = "~ (not significant)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%+.1f%%\tp=%.3f (n=%d+%d)\t%s\n", c.Name, c.Base, c.New, c.Delta*100, c.P, c.Base.N, c.New.N, verdict)
		for _, warn := range c.Warnings {
			fmt.Fprintf(tw, "\t  warning: %s\t\t\t\t\n", warn)
		}
	}
	return tw.Flush()
}

func (s Summary) String() string { return fmt.Sprintf("%.3f [%.3f, %.3f]", s.Median, s.Lo, s.Hi) }

// CostThresholds decide when a cost (CPU seconds per GiB) rose: the rise
// must be significant (Mann-Whitney U, p < Alpha, as benchstat) and the
// median must have risen by more than MinRise. The zero value means Alpha
// 0.05 and MinRise 0.03: with 200 rounds a side on the loaded 2-core
// machine the difference of two medians has a standard error of about
// 1.5% (docs/PERFORMANCE.md), so a 3% floor keeps unchanged builds from
// failing while a 5% rise still clears it.
type CostThresholds struct {
	Alpha   float64 `json:"alpha"`
	MinRise float64 `json:"min_rise"` // fraction of the base's median
}

func (t CostThresholds) withDefaults() CostThresholds {
	if t.Alpha <= 0 {
		t.Alpha = 0.05
	}
	if t.MinRise <= 0 {
		t.MinRise = 0.03
	}
	return t
}

// CompareCost decides whether cur costs more than base: the decision of
// ci/perf/run, in one place.
func CompareCost(name string, base, cur []float64, t CostThresholds) Change {
	t = t.withDefaults()
	c := compareSamples(name, base, cur, Thresholds{Alpha: t.Alpha})
	c.Regressed = c.P < t.Alpha && c.Delta > t.MinRise
	return c
}
