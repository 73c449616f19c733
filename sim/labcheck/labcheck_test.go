package labcheck

import (
	"testing"

	"github.com/c2clab/c2clab/sim/check"
	"github.com/c2clab/c2clab/sim/code"
	"github.com/c2clab/c2clab/sim/device"
)

func TestCompare(t *testing.T) {
	allow := Outcome{Allowed: true, Segment: "ws", Rule: "r1", AccessType: "Client to Client"}
	tests := []struct {
		name   string
		c, l   Outcome
		fields []string
	}{
		{"same", allow, allow, nil},
		{"rule differs", allow, Outcome{Allowed: true, Segment: "ws", Rule: "r2", AccessType: "Client to Client"}, []string{"rule"}},
		{"code and outcome", allow, Outcome{Code: code.C2CNotAvailable, Segment: "ws", Rule: "r1", AccessType: "Client to Client"}, []string{"outcome", "code"}},
		{"local drop: segment not compared", Outcome{Code: code.CltPortNotInSegment, Local: true, Segment: "ws"},
			Outcome{Code: code.CltPortNotInSegment, Local: true}, nil},
		{"one side reached the broker", Outcome{Code: code.BrkPortNotInSegment, Segment: "ws"},
			Outcome{Code: code.CltPortNotInSegment, Local: true}, []string{"code", "reached the broker"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := Compare(tc.c, tc.l)
			if len(d) != len(tc.fields) {
				t.Fatalf("Compare = %v, want fields %v", d, tc.fields)
			}
			for i, f := range tc.fields {
				if d[i].Field != f {
					t.Fatalf("Compare = %v, want fields %v", d, tc.fields)
				}
			}
		})
	}
}

// Questions that share devices share one set of agents; the source is one
// of them when From is among the devices.
func TestGroups(t *testing.T) {
	a := &device.Profile{Name: "a", Hostname: "a", User: "u1"}
	b := &device.Profile{Name: "b", Hostname: "b", User: "u2"}
	qs := []Case{
		{Question: check.Question{From: a, User: "u1", Devices: []*device.Profile{a, b}}},
		{Question: check.Question{From: b, User: "u2", Devices: []*device.Profile{a, b}}},
		{Question: check.Question{From: a, User: "other", Devices: []*device.Profile{a, b}}}, // another user: its own source
		{Question: check.Question{User: "u1", Devices: []*device.Profile{b}}},
	}
	rs := make([]Result, len(qs))
	gs := groups(qs, rs)
	if len(gs) != 3 || len(gs[0].cases) != 2 {
		t.Fatalf("groups = %+v, want the first two together and two more", gs)
	}
	if sourceIn(qs[0].Question) != 0 || sourceIn(qs[1].Question) != 1 || sourceIn(qs[2].Question) != -1 {
		t.Fatal("sourceIn does not find the source among the devices")
	}
}

func TestCorpusIsReproducible(t *testing.T) {
	a, b := Corpus(42, 2, 30), Corpus(42, 2, 30)
	for i := range a {
		for j := range a[i].Cases {
			if a[i].Cases[j].Name != b[i].Cases[j].Name {
				t.Fatalf("seed 42 gave %q then %q", a[i].Cases[j].Name, b[i].Cases[j].Name)
			}
		}
	}
	if c := Corpus(43, 2, 30); c[1].Cases[0].Name == a[1].Cases[0].Name && c[1].Cases[5].Name == a[1].Cases[5].Name {
		t.Fatal("seeds 42 and 43 gave the same questions")
	}
}
