package bench

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"
)

// Files bench ab writes into its output directory.
const (
	ABTextFile = "ab.txt"  // Go benchmark format: benchstat -col /build ab.txt
	ABJSONFile = "ab.json" // the ABResult
)

// WriteABFiles writes ab.txt and ab.json into dir, creating it.
func WriteABFiles(dir string, r ABResult) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("bench ab: output: %w", err)
	}
	if err := writeFile(filepath.Join(dir, ABTextFile), r.WriteBenchfmt); err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, ABJSONFile), func(w io.Writer) error { return writeJSON(w, r) })
}

// WriteBenchfmt writes every measured transfer, one line each, the build
// as a sub-benchmark key, so `benchstat -col /build ab.txt` compares them.
// The warm-up rounds are left out, as from the verdict.
func (r ABResult) WriteBenchfmt(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "goos: %s\ngoarch: %s\npkg: github.com/c2clab/c2clab/sim/bench\nbackend: %s\n", runtime.GOOS, runtime.GOARCH, r.Backend)
	fmt.Fprintf(&b, "# load average (1, 5, 15 min): %s at the start, %s at the end; %d warm-up rounds left out\n", r.LoadStart, r.LoadEnd, r.Warmup)
	for _, side := range []struct {
		name string
		s    ABSide
	}{{"base", r.Base}, {"candidate", r.Candidate}} {
		for i, s := range side.s.Runs {
			if i < r.Warmup {
				continue
			}
			fmt.Fprintf(&b, "BenchmarkRelayCost/size=%s/build=%s 1 %d ns/op %.1f Mbit/s", mib(r.Size), side.name, s.Interval.Nanoseconds(), s.BitsPerSecond()/1e6)
			writeCostUnits(&b, s.Cost, s.Moved, gib, "GiB")
			b.WriteString("\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteVerdict prints the comparison for people, benchstat-style, and the
// verdict on the relay's CPU per GiB.
func (r ABResult) WriteVerdict(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "metric\tbase median [95% CI]\tcandidate median [95% CI]\tchange\tp (n)\tverdict")
	for _, c := range []Change{r.CPU, r.Rate} {
		verdict := "~ (not significant)"
		switch {
		case c.Regressed:
			verdict = fmt.Sprintf("REGRESSION (significant, above +%.0f%%)", r.Thresholds.MinRise*100)
		case c.P < r.Thresholds.Alpha:
			verdict = "significant change, not a regression"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%+.1f%%\tp=%.3f (n=%d+%d)\t%s\n", c.Name, c.Base, c.New, c.Delta*100, c.P, c.Base.N, c.New.N, verdict)
		for _, warn := range c.Warnings {
			fmt.Fprintf(tw, "\t  warning: %s\t\t\t\t\n", warn)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "(%d rounds a side after %d warm-up rounds, %s each, sides alternated; %s backend; CPU of the broker and both agents from %s; load average %s at the start, %s at the end; %s)\n",
		r.CPU.Base.N, r.Warmup, mib(r.Size), r.Backend, r.Base.CostSource, r.LoadStart, r.LoadEnd, r.Elapsed.Round(1e8))
	return err
}
