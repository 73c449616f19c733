package topology

import (
	"encoding/json"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/c2clab/c2clab/sim/configfile"
	"github.com/c2clab/c2clab/sim/device"
	"github.com/c2clab/c2clab/sim/linkemu"
)

// fakeDevice stands in for device.Load: a file named *.yaml is a valid
// Windows device, anything else does not exist.
func fakeDevice(path string) (*device.Profile, error) {
	if !strings.HasSuffix(path, ".yaml") {
		return nil, fs.ErrNotExist
	}
	return &device.Profile{Name: filepath.Base(path), Hostname: "pc", PrimaryDNSSuffix: "example.com",
		OS: device.Windows, ConnectorVersion: "4.5", JoinState: device.JoinAD}, nil
}

// FuzzParse feeds the topology loader any file, seeded with the shipped
// topologies and the bad inputs of TestBadInputNamesFileLineField. It
// checks that every error names the file (and the line of its field), that
// the same bytes give the same result, and that an accepted topology keeps
// its promises: one broker, unique valid names, a loaded device per agent,
// links the link emulator accepts unchanged, a CNI config that is JSON.
//
//	go test -run '^$' -fuzz '^FuzzParse$' -fuzztime 30s ./sim/topology
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("../../topologies/*.yaml")
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, tc := range badInputs {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		top, err := parse("fuzz.yaml", data, fakeDevice)
		checkErrors(t, err)
		top2, err2 := parse("fuzz.yaml", data, fakeDevice)
		if !reflect.DeepEqual(top, top2) || errText(err) != errText(err2) {
			t.Fatalf("same input, different results:\n%v\n%v", err, err2)
		}
		if err != nil {
			return
		}
		checkTopology(t, top)
	})
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func checkErrors(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	leaves := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		leaves = j.Unwrap()
	}
	for _, e := range leaves {
		var ce *configfile.Error
		switch {
		case !errors.As(e, &ce):
			t.Fatalf("error %q is not a *configfile.Error", e)
		case ce.File != "fuzz.yaml" || ce.Msg == "" || (ce.Field != "" && ce.Line <= 0):
			t.Fatalf("error %+v does not name file, line and field", ce)
		case fmtMistake(ce.Msg):
			t.Fatalf("error %q has a formatting mistake", e)
		}
	}
}

func checkTopology(t *testing.T, top *Topology) {
	t.Helper()
	brokers, names := 0, map[string]bool{}
	for _, n := range top.Nodes {
		if !nodeNameRE.MatchString(n.Name) || names[n.Name] {
			t.Fatalf("accepted node name %q", n.Name)
		}
		names[n.Name] = true
		if n.Role == RoleBroker {
			brokers++
		}
		if (n.Role == RoleAgent) != (n.Profile != nil) || (n.Profile != nil && n.Profile.Name != n.Name) {
			t.Fatalf("node %q (%s) has profile %+v", n.Name, n.Role, n.Profile)
		}
		checkLinkRoundTrip(t, n.Link)
	}
	if brokers != 1 {
		t.Fatalf("accepted %d brokers", brokers)
	}
	cfg, err := top.CNIConfig()
	if err != nil || (cfg != nil && !json.Valid(cfg)) {
		t.Fatalf("CNI config %q, %v", cfg, err)
	}
}

// checkLinkRoundTrip: the lab hands a link to the emulator node as text
// (linkemu's MarshalText), so what the topology accepts must come out of
// linkemu.Parse as it went in.
func checkLinkRoundTrip(t *testing.T, l Link) {
	t.Helper()
	im := l.Impairments()
	if math.IsNaN(l.LossPercent) || l.LossPercent < 0 || l.LossPercent > 100 || l.JitterDur > l.DelayDur {
		t.Fatalf("accepted link %+v", l)
	}
	got, err := linkemu.Parse(im.String())
	if err != nil {
		t.Fatalf("link %+v prints as %q, which the emulator refuses: %v", l, im.String(), err)
	}
	if got.Rate != im.Rate || got.Delay != im.Delay || math.Abs(got.Loss.Probability-im.Loss.Probability) > 1e-12 {
		t.Fatalf("link %+v: the emulator reads %q as %+v, want %+v", l, im.String(), got, im)
	}
}

// FuzzLink checks a link's four values on their own: whatever is accepted
// reaches the emulator unchanged.
func FuzzLink(f *testing.F) {
	f.Add("50mbit", "20ms", "2ms", "0.5%")
	f.Add("1gbit", "", "", "")
	f.Add("NaNmbit", "1ms", "1ms", "NaN%")
	f.Add("1e30gbit", "10s", "0s", "100%")
	f.Add("0.0001bit", "-1ms", "", "1e-320%")
	f.Add("infkbit", "11s", "", "-0%")
	f.Fuzz(func(t *testing.T, rate, delay, jitter, loss string) {
		l := Link{Rate: rate, Delay: delay, Jitter: jitter, Loss: loss}
		if err := l.parse(); err != nil {
			if err.Error() == "" || fmtMistake(err.Error()) {
				t.Fatalf("error %q", err)
			}
			return
		}
		if (rate != "") != (l.RateBits > 0) || l.RateBits > maxRate {
			t.Fatalf("rate %q parsed to %d bit/s", rate, l.RateBits)
		}
		checkLinkRoundTrip(t, l)
	})
}

var quotedRE = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// fmtMistake reports a message fmt got wrong ("%!v(MISSING)", "%!w(<nil>)"),
// outside the quoted values it echoes from the input.
func fmtMistake(msg string) bool {
	return strings.Contains(quotedRE.ReplaceAllString(msg, `""`), "%!")
}
