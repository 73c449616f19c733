package bench

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// AgreementTarget is how far the probe may be from iperf3 (DESIGN.md,
// performance targets), in percent.
const AgreementTarget = 10.0

// WriteTable prints the run for people: per cell the median rate of every
// path and the relay's median ratio to each reference, then round trips
// and setup per path, then the probe against iperf3.
func (r Result) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	paths := r.Available()
	head := []string{"cell"}
	for _, p := range paths {
		head = append(head, p+" Mbit/s")
	}
	for _, ref := range References {
		head = append(head, "relay/"+ref)
	}
	fmt.Fprintf(tw, "%s\t\n", strings.Join(head, "\t"))
	for _, c := range r.Cells {
		row := []string{fmt.Sprintf("%s x%d", mib(c.Size), c.Streams)}
		for _, p := range paths {
			row = append(row, fmt.Sprintf("%.0f", Median(c.Bits(p))/1e6))
		}
		for _, ref := range References {
			row = append(row, ratioCell(c.Ratios(ref)))
		}
		fmt.Fprintf(tw, "%s\t\n", strings.Join(row, "\t"))
	}
	fmt.Fprintln(tw, "\t")
	r.writeCosts(tw, paths)
	fmt.Fprintln(tw, "\t")
	fmt.Fprintf(tw, "path\tround trip p50\tp99\tsetup p50\tsetup p99\tconn/s\tcpu-s/1k setups\tallocs/setup\t\n")
	for _, p := range paths {
		rt, s, run := r.RoundTrips[p], r.Setup[p], r.SetupRuns[p]
		allocs := "-"
		if run.Cost != nil && run.Cost.Alloc != nil && run.Count > 0 {
			allocs = fmt.Sprintf("%.0f", float64(run.Cost.Alloc.Objects)/float64(run.Count))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%.0f\t%s\t%s\t\n", p, us(rt.P50), us(rt.P99), us(s.P50), us(s.P99), run.PerSecond(), costCell(run.Cost != nil, run.CPUPer1k()), allocs)
	}
	if len(r.RoundTripsUnderLoad) > 0 {
		fmt.Fprintln(tw, "\t")
		fmt.Fprintf(tw, "path\tround trip p50 under load\tp99 under load\tp50 idle\t\n")
		for _, p := range paths {
			ul := r.RoundTripsUnderLoad[p]
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", p, us(ul.P50), us(ul.P99), us(r.RoundTrips[p].P50))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if r.Link != "" {
		fmt.Fprintf(w, "\nthe desktop's link is impaired both ways: %s\n", r.Link)
	}
	fmt.Fprintf(w, "\n(medians of %d runs; ratios are medians of per-round ratios; %s backend; load average %s at the start, %s at the end)\n", r.Count, r.Backend, r.LoadStart, r.LoadEnd)
	for _, p := range r.Paths {
		if p.CostSource != "" {
			fmt.Fprintf(w, "%s: cost of its own processes read from %s\n", p.Name, p.CostSource)
		}
		if p.CostNote != "" {
			fmt.Fprintf(w, "%s: no cost (\"-\"): %s\n", p.Name, p.CostNote)
		}
	}
	r.writeWhere(w)
	for _, p := range r.Paths {
		if !p.Available {
			fmt.Fprintf(w, "%s: %s, left out\n", p.Name, p.Note)
		}
	}
	_, err := fmt.Fprintln(w, r.Iperf3.String())
	return err
}

// writeCosts prints per cell the median CPU seconds per GiB of each path
// with processes of its own, and the relay's allocations per GiB.
func (r Result) writeCosts(tw io.Writer, paths []string) {
	head := []string{"cell"}
	for _, p := range paths {
		head = append(head, p+" cpu-s/GiB")
	}
	fmt.Fprintf(tw, "%s\trelay allocs/GiB\trelay alloc-MiB/GiB\t\n", strings.Join(head, "\t"))
	for _, c := range r.Cells {
		row := []string{fmt.Sprintf("%s x%d", mib(c.Size), c.Streams)}
		for _, p := range paths {
			v := c.CPUPerGiB(p)
			row = append(row, costCell(len(v) > 0, Median(v)))
		}
		objs, bytes := c.AllocPerGiB(PathRelay)
		row = append(row, costCell(len(objs) > 0, Median(objs)), costCell(len(bytes) > 0, Median(bytes)/(1<<20)))
		fmt.Fprintf(tw, "%s\t\n", strings.Join(row, "\t"))
	}
}

// costCell is "-" where there is no cost (the direct path's kernel
// forwarding has no process of its own).
func costCell(ok bool, v float64) string {
	if !ok {
		return "-"
	}
	return fmt.Sprintf("%.3f", v)
}

func ratioCell(v []float64) string {
	if len(v) == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", Median(v))
}

func us(d time.Duration) string { return fmt.Sprintf("%.0fus", float64(d)/1e3) }

// String is the agreement line of the table.
func (a Agreement) String() string {
	if !a.Available {
		return "probe vs iperf3: " + a.Note + ", not compared"
	}
	var probe []float64
	for _, s := range a.Probe {
		probe = append(probe, s.BitsPerSecond())
	}
	verdict := "within"
	if a.PercentOff() > AgreementTarget {
		verdict = "NOT within"
	}
	return fmt.Sprintf("probe vs iperf3 on the relayed path: probe %.0f Mbit/s, iperf3 %.0f Mbit/s (medians of %d): %.1f%% apart, %s %.0f%%",
		Median(probe)/1e6, Median(a.Iperf3)/1e6, len(a.Iperf3), a.PercentOff(), verdict, AgreementTarget)
}

// writeWhere prints where the nodes ran and the run's notes, sorted by
// node name.
func (r Result) writeWhere(w io.Writer) {
	for _, n := range slices.Sorted(maps.Keys(r.Where)) {
		fmt.Fprintf(w, "%s ran in %s\n", n, r.Where[n])
	}
	for _, n := range r.Notes {
		fmt.Fprintln(w, n)
	}
}
