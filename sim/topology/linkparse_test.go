package topology

import (
	"testing"

	"github.com/c2clab/c2clab/sim/linkemu"
)

// TestLinkParsesAsLinkemu: a link a topology accepts means what the same
// values mean to linkemu.Parse, the one impairment syntax; the topology
// only adds limits.
func TestLinkParsesAsLinkemu(t *testing.T) {
	for _, l := range []Link{
		{Rate: "50mbit"}, {Rate: "1.5kbit", Delay: "20ms", Jitter: "2ms"}, {Loss: "1%"}, {Loss: "0.5%", Delay: "10s"},
		{Rate: "1000gbit"}, {Rate: "1bit"}, {Delay: "0s"},
	} {
		got, err := l.Parsed()
		if err != nil {
			t.Fatalf("%+v: %v", l, err)
		}
		spec := ""
		add := func(k, v string) {
			if v != "" {
				if spec != "" {
					spec += ","
				}
				spec += k + "=" + v
			}
		}
		add("rate", l.Rate)
		add("delay", l.Delay)
		add("jitter", l.Jitter)
		add("loss", l.Loss)
		want, err := linkemu.Parse(spec)
		if err != nil {
			t.Fatalf("linkemu.Parse(%q): %v", spec, err)
		}
		if got != want {
			t.Errorf("%+v: topology %+v, linkemu %+v", l, got, want)
		}
	}
	for _, l := range []Link{{Rate: "50"}, {Loss: "0.01"}, {Delay: "11s"}, {Rate: "0.5bit"}, {Rate: "2000gbit"}, {Delay: "1ms", Jitter: "2ms"}} {
		if _, err := l.Parsed(); err == nil {
			t.Errorf("%+v: accepted; outside a topology's limits", l)
		}
	}
}
