package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Files a run writes into its output directory.
const (
	TextFile = "bench.txt"  // Go benchmark format, for benchstat
	JSONFile = "bench.json" // the Result
	HTMLFile = "bench.html" // self-contained page with SVG plots
)

// WriteFiles writes the run as bench.txt, bench.json and bench.html into
// dir, creating it.
func WriteFiles(dir string, r Result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("bench: output: %w", err)
	}
	writers := map[string]func(io.Writer) error{
		TextFile: r.WriteBenchfmt,
		JSONFile: func(w io.Writer) error { return writeJSON(w, r) },
		HTMLFile: r.WriteHTML,
	}
	for name, write := range writers {
		if err := writeFile(filepath.Join(dir, name), write); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("bench: output: %w", err)
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("bench: write %q: %w", path, err)
	}
	return f.Close()
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// ReadJSON reads a Result written by WriteFiles (bench.json).
func ReadJSON(path string) (Result, error) {
	var r Result
	data, err := os.ReadFile(path)
	if err != nil {
		return r, fmt.Errorf("bench: %w", err)
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return r, fmt.Errorf("bench: %q: %w", path, err)
	}
	return r, nil
}

// WriteBenchfmt writes the run in the Go benchmark format, one line per
// run, so benchstat takes medians and compares runs: throughput runs per
// path with the relay's ratios as extra units on its lines, round trip and
// setup percentiles, and the probe and iperf3 rates.
func (r Result) WriteBenchfmt(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "goos: %s\ngoarch: %s\npkg: github.com/c2clab/c2clab/sim/bench\nbackend: %s\n", runtime.GOOS, runtime.GOARCH, r.Backend)
	if r.Link != "" {
		// A configuration line: benchstat keeps impaired runs apart.
		fmt.Fprintf(&b, "link: %s\n", r.Link)
	}
	// Not a configuration line: benchstat would split runs of different
	// load into tables it does not compare.
	fmt.Fprintf(&b, "# load average (1, 5, 15 min): %s at the start, %s at the end\n", r.LoadStart, r.LoadEnd)
	for _, c := range r.Cells {
		ratios := map[string][]float64{}
		for _, ref := range References {
			ratios[ref] = c.Ratios(ref)
		}
		for _, p := range r.Available() {
			for i, s := range c.Runs[p] {
				fmt.Fprintf(&b, "BenchmarkThroughput/size=%s/streams=%d/path=%s 1 %d ns/op %.2f MB/s %.1f Mbit/s",
					mib(c.Size), c.Streams, p, s.Interval.Nanoseconds(), float64(s.Bytes)/s.Interval.Seconds()/1e6, s.BitsPerSecond()/1e6)
				for _, ref := range References {
					if p == PathRelay && i < len(ratios[ref]) {
						fmt.Fprintf(&b, " %.4f ratio-to-%s", ratios[ref][i], ref)
					}
				}
				writeCostUnits(&b, s.Cost, s.Moved, gib, "GiB")
				b.WriteString("\n")
			}
		}
	}
	for _, p := range r.Available() {
		rt, s := r.RoundTrips[p], r.Setup[p]
		fmt.Fprintf(&b, "BenchmarkRoundTrip/path=%s %d %d ns/op %d p50-ns %d p99-ns\n", p, rt.Count, rt.Mean.Nanoseconds(), rt.P50.Nanoseconds(), rt.P99.Nanoseconds())
		if ul, ok := r.RoundTripsUnderLoad[p]; ok {
			fmt.Fprintf(&b, "BenchmarkRoundTripUnderLoad/path=%s %d %d ns/op %d p50-ns %d p99-ns\n", p, ul.Count, ul.Mean.Nanoseconds(), ul.P50.Nanoseconds(), ul.P99.Nanoseconds())
		}
		fmt.Fprintf(&b, "BenchmarkSetup/path=%s %d %d ns/op %d p50-ns %d p99-ns", p, s.Count, s.Mean.Nanoseconds(), s.P50.Nanoseconds(), s.P99.Nanoseconds())
		if run, ok := r.SetupRuns[p]; ok {
			fmt.Fprintf(&b, " %.1f conn/s", run.PerSecond())
			writeCostUnits(&b, run.Cost, int64(run.Count), 1000, "1k-setups")
		}
		b.WriteString("\n")
	}
	for i, s := range r.Iperf3.Probe {
		fmt.Fprintf(&b, "BenchmarkAgreement/tool=probe 1 %d ns/op %.1f Mbit/s\n", s.Interval.Nanoseconds(), s.BitsPerSecond()/1e6)
		if i < len(r.Iperf3.Iperf3) {
			fmt.Fprintf(&b, "BenchmarkAgreement/tool=iperf3 1 %.1f Mbit/s\n", r.Iperf3.Iperf3[i]/1e6)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeCostUnits appends the cost of n things (bytes, setups) as extra
// benchmark units per per things, named per unit: CPU seconds, and the
// heap bytes and objects the Go processes allocated. Nothing without a
// cost (the direct path has no processes of its own).
func writeCostUnits(b *strings.Builder, c *Cost, n int64, per float64, unit string) {
	if c == nil || n <= 0 {
		return
	}
	k := per / float64(n)
	fmt.Fprintf(b, " %.4f cpu-s/%s", c.CPU.Total().Seconds()*k, unit)
	if c.Alloc != nil {
		fmt.Fprintf(b, " %.0f alloc-B/%s %.0f allocs/%s", float64(c.Alloc.Bytes)*k, unit, float64(c.Alloc.Objects)*k, unit)
	}
}
