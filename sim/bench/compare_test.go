package bench

import (
	"strings"
	"testing"
	"time"
)

// cellOf builds a one-cell result whose relay runs at relay[i] and whose
// direct path at direct[i] Mbit/s, round by round.
func cellOf(relay, direct []float64) Result {
	runs := map[string][]Sample{}
	for i := range relay {
		runs[PathRelay] = append(runs[PathRelay], mbit(relay[i]))
		runs[PathDirect] = append(runs[PathDirect], mbit(direct[i]))
	}
	return Result{Count: len(relay), Paths: []Path{{Name: PathRelay, Available: true}, {Name: PathDirect, Available: true}},
		Cells: []Cell{{Size: 32 << 20, Streams: 1, Runs: runs}}}
}

// mbit is a one-second sample at v Mbit/s.
func mbit(v float64) Sample { return Sample{Bytes: int64(v * 1e6 / 8), Interval: time.Second} }

func TestCompareFailsOnlyOnASignificantRegressionOfTheRatio(t *testing.T) {
	base := cellOf([]float64{400, 410, 395, 405, 402, 398}, []float64{1000, 1010, 990, 1005, 1000, 995})
	tests := []struct {
		name      string
		cur       Result
		regressed bool
	}{
		{"unchanged, noise", cellOf([]float64{404, 396, 407, 399, 401, 409}, []float64{1002, 998, 1011, 992, 1000, 1006}), false},
		// A slower machine: every absolute rate halves, the ratio stays.
		{"slower machine, same ratio", cellOf([]float64{200, 205, 198, 202, 201, 199}, []float64{500, 505, 495, 502, 500, 498}), false},
		{"relay 30% slower", cellOf([]float64{280, 287, 276, 283, 281, 279}, []float64{1000, 1010, 990, 1005, 1000, 995}), true},
		// Significant but small: inside the 10% the threshold allows.
		{"relay 5% slower", cellOf([]float64{380, 389, 375, 385, 382, 378}, []float64{1000, 1010, 990, 1005, 1000, 995}), false},
		// A big drop seen in two runs only cannot be significant.
		{"too few runs", cellOf([]float64{280, 287}, []float64{1000, 1010}), false},
		{"relay faster", cellOf([]float64{600, 610, 595, 605, 602, 598}, []float64{1000, 1010, 990, 1005, 1000, 995}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := Compare(base, tt.cur, Thresholds{})
			if len(cs) != 1 {
				t.Fatalf("got %d changes, want the one relay/direct ratio: %+v", len(cs), cs)
			}
			var out strings.Builder
			WriteChanges(&out, cs, Thresholds{})
			if Regressed(cs) != tt.regressed {
				t.Fatalf("regressed = %v, want %v\n%s", Regressed(cs), tt.regressed, out.String())
			}
			if tt.regressed && !strings.Contains(out.String(), "REGRESSION") {
				t.Fatalf("the report does not say REGRESSION:\n%s", out.String())
			}
		})
	}
}

func TestCompareSkipsWhatOneRunDidNotMeasure(t *testing.T) {
	base := cellOf([]float64{400, 410, 395}, []float64{1000, 1010, 990})
	cur := cellOf([]float64{400, 410, 395}, []float64{1000, 1010, 990})
	cur.Cells[0].Size = 64 << 20 // another cell: nothing in common
	if cs := Compare(base, cur, Thresholds{}); len(cs) != 0 {
		t.Fatalf("compared %+v, want nothing", cs)
	}
	cur = cellOf([]float64{400, 410, 395}, []float64{1000, 1010, 990})
	cur.Cells[0].Runs[PathSocat] = []Sample{mbit(100), mbit(100), mbit(100)}
	if cs := Compare(base, cur, Thresholds{}); len(cs) != 1 || !strings.HasSuffix(cs[0].Name, "relay/direct") {
		t.Fatalf("compared %+v, want relay/direct only (no socat in the baseline)", cs)
	}
}

func TestRatiosAreTakenRoundByRound(t *testing.T) {
	r := cellOf([]float64{100, 300}, []float64{200, 300})
	got := r.Cells[0].Ratios(PathDirect)
	if len(got) != 2 || got[0] != 0.5 || got[1] != 1 {
		t.Fatalf("Ratios = %v, want [0.5 1]", got)
	}
	if m := Median([]float64{3, 1, 2, 10}); m != 2.5 {
		t.Fatalf("Median = %v, want 2.5", m)
	}
}
