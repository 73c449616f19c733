package device

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/c2clab/c2clab/sim/configfile"
)

// FuzzParse feeds the profile loader any file, seeded with every shipped
// device and the bad inputs above. Every error must name the file (and the
// line of its field); an accepted profile must pass its own validation
// again, carry a version ParseVersion takes, and survive a round trip:
// written as JSON (which a profile file may be) it parses to an equal
// profile.
//
//	go test -run '^$' -fuzz '^FuzzParse$' -fuzztime 30s ./sim/device
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("../../fixtures/devices/*.yaml")
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
		p, err := Parse("fuzz.yaml", data)
		if err != nil {
			checkErrors(t, err)
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("accepted profile fails Validate: %v", err)
		}
		if _, err := ParseVersion(p.ConnectorVersion); err != nil || p.JoinState == "" {
			t.Fatalf("accepted version %q, join state %q", p.ConnectorVersion, p.JoinState)
		}
		out, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("marshal %+v: %v", p, err)
		}
		again, err := Parse("fuzz.json", out)
		if err != nil {
			t.Fatalf("%q parsed, but its JSON %s does not: %v", data, out, err)
		}
		if !reflect.DeepEqual(p, again) {
			t.Fatalf("round trip of %q:\n%+v\n%+v", data, p, again)
		}
	})
}

func checkErrors(t *testing.T, err error) {
	t.Helper()
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

var quotedRE = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// fmtMistake reports a message fmt got wrong ("%!v(MISSING)", "%!w(<nil>)"),
// outside the quoted values it echoes from the input.
func fmtMistake(msg string) bool {
	return strings.Contains(quotedRE.ReplaceAllString(msg, `""`), "%!")
}
