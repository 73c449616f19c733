package bench

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"
	"time"

	"golang.org/x/perf/benchfmt"

	"github.com/c2clab/c2clab/sim/measure"
	"github.com/c2clab/c2clab/sim/measure/cpuacct"
)

// sampleResult is a result as Run makes it, with made-up figures.
func sampleResult(t *testing.T) Result {
	r := cellOf([]float64{400, 410, 395}, []float64{1000, 1010, 990})
	r.Backend, r.Started, r.Elapsed = "local", time.Unix(0, 0).UTC(), 17*time.Second
	r.Paths = append(r.Paths, Path{Name: PathSocat, Note: "not installed"})
	r.RoundTrips, r.Setup = map[string]measure.Distribution{}, map[string]measure.Distribution{}
	for _, p := range r.Available() {
		r.RoundTrips[p], r.Setup[p] = distribution(t), distribution(t)
	}
	r.Iperf3 = Agreement{Available: true, Probe: []Sample{mbit(400)}, Iperf3: []float64{420e6}}
	return r
}

// distribution is a real one: a short latency probe against an echo.
func distribution(t *testing.T) measure.Distribution {
	a, b := pipeEcho(t)
	defer a.Close()
	defer b.Close()
	r, err := measure.Latency(t.Context(), a, measure.LatencyConfig{Count: 50})
	if err != nil {
		t.Fatal(err)
	}
	return r.RoundTrips
}

func TestBenchfmtIsReadByBenchstatsParser(t *testing.T) {
	r := sampleResult(t)
	var buf bytes.Buffer
	if err := r.WriteBenchfmt(&buf); err != nil {
		t.Fatal(err)
	}
	text := buf.String()
	rd := benchfmt.NewReader(&buf, "bench.txt")
	units := map[string]int{}
	var names []string
	for rd.Scan() {
		switch rec := rd.Result().(type) {
		case *benchfmt.SyntaxError:
			t.Fatalf("benchfmt: %v", rec)
		case *benchfmt.Result:
			names = append(names, string(rec.Name))
			for _, v := range rec.Values {
				units[v.Unit]++
			}
		}
	}
	// 3 runs of relay and direct, 2 round-trip and 2 setup lines, one probe
	// and one iperf3 line.
	if len(names) != 12 {
		t.Fatalf("read %d results, want 12: %v\n%s", len(names), names, text)
	}
	if units["ratio-to-direct"] != 3 || units["Mbit/s"] != 8 || units["ratio-to-socat"] != 0 {
		t.Fatalf("units %v: want 3 ratio-to-direct (relay lines), 8 Mbit/s, no socat\n%s", units, text)
	}
	if !strings.Contains(text, "BenchmarkThroughput/size=32MiB/streams=1/path=relay 1 1000000000 ns/op 50.00 MB/s 400.0 Mbit/s 0.4000 ratio-to-direct") {
		t.Fatalf("first relay line not as expected:\n%s", text)
	}
}

func TestHTMLIsWellFormedAndPlotsEveryPath(t *testing.T) {
	r := sampleResult(t)
	var buf bytes.Buffer
	if err := r.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	page = strings.Replace(page, "<!DOCTYPE html>", "", 1)
	d := xml.NewDecoder(strings.NewReader(page))
	polylines, rects := 0, 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed: %v\n%s", err, page)
		}
		if se, ok := tok.(xml.StartElement); ok {
			switch se.Name.Local {
			case "polyline":
				polylines++
			case "rect":
				rects++
			}
		}
	}
	if polylines != 2 {
		t.Errorf("%d CDF lines, want 2 (relay, direct)", polylines)
	}
	if rects < 2 {
		t.Errorf("%d rects, want a bar per path", rects)
	}
	if !strings.Contains(page, "relay/direct") || !strings.Contains(page, "socat: not installed") {
		t.Errorf("page lacks the ratio table or the note on socat:\n%s", page)
	}
}

func TestCostUnitsAreScaledToAGiBAndAThousandSetups(t *testing.T) {
	r := sampleResult(t)
	relay := r.Cells[0].Runs[PathRelay]
	// Half a GiB moved for 0.75 s of CPU and 1,000 allocations: 1.5 s,
	// 2,000 allocations per GiB.
	relay[0].Moved = gib / 2
	relay[0].Cost = &Cost{CPU: cpuacct.Usage{User: 500 * time.Millisecond, System: 250 * time.Millisecond}, Alloc: &Alloc{Bytes: 1 << 20, Objects: 1000}}
	r.SetupRuns = map[string]SetupRun{PathRelay: {Count: 50, Elapsed: 100 * time.Millisecond,
		Cost: &Cost{CPU: cpuacct.Usage{User: 100 * time.Millisecond}}}}
	var buf bytes.Buffer
	if err := r.WriteBenchfmt(&buf); err != nil {
		t.Fatal(err)
	}
	text := buf.String()
	for _, want := range []string{
		" 1.5000 cpu-s/GiB 2097152 alloc-B/GiB 2000 allocs/GiB\n",
		"BenchmarkSetup/path=relay ", " 500.0 conn/s 2.0000 cpu-s/1k-setups\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in\n%s", want, text)
		}
	}
	// The direct path has no processes of its own: no cost units at all.
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, "path=direct") && strings.Contains(line, "cpu-s/") {
			t.Errorf("direct line with a cost: %s", line)
		}
	}
	var table strings.Builder
	if err := r.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table.String(), "1.500") || !strings.Contains(table.String(), "2.000") {
		t.Errorf("table lacks the relay's 1.500 cpu-s/GiB or 2.000 cpu-s per 1k setups:\n%s", table.String())
	}
}

// TestTableSaysWhereAndWhyNoCost checks that a kubernetes run's table
// names every node's Pod and node and the run's notes, and that a path
// whose cost could not be read says why instead of showing a figure.
func TestTableSaysWhereAndWhyNoCost(t *testing.T) {
	r := sampleResult(t)
	r.Backend = "kubernetes"
	r.Paths[0].CostNote = "cost not read: machine: cpu broker: 404 Not Found"
	r.Where = map[string]string{"broker": "pod broker-1 on node n1", "admin-agent": "pod admin-3 on node n1"}
	r.Notes = []string{kubeHop}
	var out bytes.Buffer
	if err := r.WriteTable(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		r.Paths[0].Name + `: no cost ("-"): cost not read: machine: cpu broker: 404 Not Found`,
		"admin-agent ran in pod admin-3 on node n1\nbroker ran in pod broker-1 on node n1\n",
		kubeHop,
		"kubernetes backend",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table does not say %q:\n%s", want, out.String())
		}
	}
}
