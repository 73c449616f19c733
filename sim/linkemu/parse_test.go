package linkemu

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Impairments
	}{
		{"empty", "", Impairments{}},
		{"brief example", "rate=50mbit,delay=20ms,jitter=2ms,loss=1%", Impairments{
			Rate: Rate{BitsPerSecond: 50e6}, Delay: Delay{Mean: 20 * time.Millisecond, Jitter: 2 * time.Millisecond},
			Loss: Loss{Probability: 0.01}}},
		{"spaces and case", " rate = 1Gbit , loss=0.5 ", Impairments{Rate: Rate{BitsPerSecond: 1e9}, Loss: Loss{Probability: 0.5}}},
		{"fractional rate", "rate=1.5mbit", Impairments{Rate: Rate{BitsPerSecond: 1_500_000}}},
		{"queue and burst", "rate=10kbit,burst=32kb,queue=1mb", Impairments{Rate: Rate{BitsPerSecond: 1e4, Burst: 32 << 10, QueueBytes: 1 << 20}}},
		{"normal reorder", "delay=5ms,jitter=1ms,dist=normal,reorder=true", Impairments{Delay: Delay{
			Mean: 5 * time.Millisecond, Jitter: time.Millisecond, Distribution: Normal, Reorder: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("Parse(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in string
		wantSub  []string // the error names the field and what is accepted
	}{
		{"unknown key", "dealy=20ms", []string{`"dealy"`, "want one of rate,"}},
		{"bytes not bits", "rate=50mbps", []string{`field "rate"`, `"50mbps"`, "mbit"}},
		{"negative delay", "delay=-1ms", []string{`field "delay"`, ">= 0"}},
		{"loss over 100%", "loss=150%", []string{`field "loss"`, "between 0 and 1"}},
		{"loss NaN", "loss=NaN", []string{`field "loss"`}},
		{"no value", "rate", []string{`"rate"`, "key=value"}},
		{"duplicate", "loss=1%,loss=2%", []string{`"loss" given twice`}},
		{"bad dist", "dist=pareto", []string{`field "dist"`, "uniform or normal"}},
		{"bad size", "burst=3tb", []string{`field "burst"`, "kb"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.in)
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("Parse(%q) error = %v, want ErrConfig", tt.in, err)
			}
			for _, s := range tt.wantSub {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("Parse(%q) error %q does not mention %q", tt.in, err, s)
				}
			}
		})
	}
}

func TestStringRoundTrip(t *testing.T) {
	for _, in := range []string{
		"rate=50mbit,delay=20ms,jitter=2ms,loss=1%",
		"rate=1234bit,burst=1500b,queue=64kb,delay=1.5ms,dist=normal,reorder=true,loss=0.25%",
		"",
	} {
		im, err := Parse(in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", in, err)
		}
		if got := im.String(); got != in {
			t.Errorf("Parse(%q).String() = %q", in, got)
		}
	}
}

func TestConfigJSON(t *testing.T) {
	im, _ := Parse("rate=50mbit,delay=20ms,loss=1%")
	in := Config{IfaceA: "a0", IfaceB: "b0", AtoB: im, Seed: 7}
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"atob":"rate=50mbit,delay=20ms,loss=1%"`) {
		t.Errorf("JSON %s: impairments not in Parse syntax", data)
	}
	var out Config
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("unmarshal %s: %v", data, err)
	}
	if out != in {
		t.Errorf("round trip = %+v, want %+v", out, in)
	}
	if err := json.Unmarshal([]byte(`{"atob":"rate=fast"}`), &out); !errors.Is(err, ErrConfig) {
		t.Errorf("bad impairment in JSON: err = %v, want ErrConfig", err)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"ok", Config{IfaceA: "a0", IfaceB: "b0"}, true},
		{"zero", Config{}, false},
		{"same iface", Config{IfaceA: "a0", IfaceB: "a0"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.cfg.Validate(); (err == nil) != tt.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

// FuzzParse checks that Parse never panics and that what it accepts prints
// to a string it parses back to the same printed form.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"rate=50mbit,delay=20ms,jitter=2ms,loss=1%", "burst=1.5kb", "loss=0.3", "x", ",,="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		im, err := Parse(s)
		if err != nil {
			return
		}
		again, err := Parse(im.String())
		if err != nil {
			t.Fatalf("Parse(%q).String() = %q does not parse: %v", s, im.String(), err)
		}
		if again.String() != im.String() {
			t.Fatalf("print not stable: %q then %q", im.String(), again.String())
		}
	})
}
