package configfile

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// fuzzConf has the shapes the lab's files use: strings, numbers, optional
// booleans, lists of structs, maps. It has no Lax part, so that it
// marshals back to YAML.
type fuzzConf struct {
	Title    string            `yaml:"title"`
	Count    int               `yaml:"count"`
	On       *bool             `yaml:"on"`
	Segments []seg             `yaml:"segments"`
	Labels   map[string]string `yaml:"labels"`
}

// fuzzLaxConf adds a lax part to fuzzConf's shapes.
type fuzzLaxConf struct {
	Title  string     `yaml:"title"`
	Export Lax[[]seg] `yaml:"export"`
	Inner  struct {
		A int `yaml:"a"`
	} `yaml:"inner"`
}

// FuzzParse checks Parse's error contract on any input and that what it
// accepts survives a round trip:
//   - every error, joined or not, is a *Error naming the file, with a
//     message and no formatting mistakes, and is the same error when the
//     same bytes are parsed again;
//   - every field the Doc indexed has a node, so Errorf can place it;
//   - an accepted file, marshalled back to YAML, parses to an equal value.
//
// Seeds are every tenant, device and topology file the lab ships.
//
//	go test -run '^$' -fuzz '^FuzzParse$' -fuzztime 30s ./sim/configfile
func FuzzParse(f *testing.F) {
	for _, pat := range []string{"../../fixtures/tenants/*.*", "../../fixtures/tenants/broken/*", "../../fixtures/devices/*.yaml", "../../topologies/*.yaml"} {
		files, _ := filepath.Glob(pat)
		for _, name := range files {
			data, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	for _, s := range []string{
		"title: x\ncount: 3\non: true\nsegments:\n  - name: a\n    ports: [1, 2]\nlabels: {a: b}\n",
		"{\"title\": \"x\", \"segments\": [{\"name\": \"a\", \"ports\": [1]}]}",
		"title: [x\n", "", "---\n---\n", "a: &x [*x]\n", "count: 99999999999999999999\n",
		"segments: {name: a}\n", "on: maybe\n", "<<: {title: x}\n", "\t", "title: x\ntitle: y\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var c fuzzConf
		d, err := Parse("f.yaml", data, &c)
		checkErrors(t, data, err, func() any { return new(fuzzConf) })
		_, laxErr := Parse("f.yaml", data, new(fuzzLaxConf))
		checkErrors(t, data, laxErr, func() any { return new(fuzzLaxConf) })
		if err != nil {
			return
		}
		for _, fp := range d.paths {
			if d.Node(fp.path) == nil || !d.Has(fp.path) {
				t.Fatalf("indexed field %q has no node", fp.path)
			}
		}
		out, err := yaml.Marshal(&c)
		if err != nil {
			t.Fatalf("marshal %+v: %v", c, err)
		}
		var again fuzzConf
		if _, err := Parse("f.yaml", out, &again); err != nil {
			t.Fatalf("%q parsed to %+v, marshalled to %q, which does not parse: %v", data, c, out, err)
		}
		if !reflect.DeepEqual(normalize(c), normalize(again)) {
			t.Fatalf("round trip of %q: %+v then %+v", data, c, again)
		}
	})
}

// checkErrors checks err, what Parse of data into a fresh target returned,
// against Parse's error contract.
func checkErrors(t *testing.T, data []byte, err error, target func() any) {
	t.Helper()
	if err == nil {
		return
	}
	var leaves []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		leaves = j.Unwrap()
	} else {
		leaves = []error{err}
	}
	for _, e := range leaves {
		ce, ok := e.(*Error)
		switch {
		case !ok:
			t.Fatalf("error %T %q is not a *configfile.Error", e, e)
		case ce.File != "f.yaml" || ce.Msg == "" || ce.Line < 0:
			t.Fatalf("error %+v does not name the file, or has no message", ce)
		case !strings.HasPrefix(ce.Error(), "f.yaml"):
			t.Fatalf("error %q does not start with the file", ce)
		case fmtMistake(ce.Msg):
			t.Fatalf("error %q has a formatting mistake", ce)
		}
	}
	_, again := Parse("f.yaml", data, target())
	if again == nil || again.Error() != err.Error() {
		t.Fatalf("same input, different errors:\n%v\n%v", err, again)
	}
}

// normalize makes empty and nil slices and maps compare equal: YAML writes
// both as nothing (omitted) or [] and reads them back either way.
func normalize(c fuzzConf) fuzzConf {
	if len(c.Segments) == 0 {
		c.Segments = nil
	}
	for i := range c.Segments {
		if len(c.Segments[i].Ports) == 0 {
			c.Segments[i].Ports = nil
		}
	}
	if len(c.Labels) == 0 {
		c.Labels = nil
	}
	return c
}

// TestErrorsAreOnlyConfigErrors pins the error shapes FuzzParse relies on,
// one case per way a file can be wrong.
func TestErrorsAreOnlyConfigErrors(t *testing.T) {
	for _, in := range []string{
		"title: [x\n",         // syntax
		"\xff\xfe",            // not UTF-8
		"count: many\n",       // wrong type
		"segments: {a: 1}\n",  // map for a list
		"bogus: 1\nnope: 2\n", // two unknown fields
		"a: *nope\n",          // unknown alias
		"",                    // empty
	} {
		var c fuzzConf
		_, err := Parse("f.yaml", []byte(in), &c)
		if err == nil {
			t.Errorf("%q: no error", in)
			continue
		}
		checkErrors(t, []byte(in), err, func() any { return new(fuzzConf) })
		if !errors.As(err, new(*Error)) {
			t.Errorf("%q: %v is not a *Error", in, err)
		}
	}
}

var quotedRE = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// fmtMistake reports a message fmt got wrong ("%!v(MISSING)", "%!w(<nil>)"),
// outside the quoted values it echoes from the input.
func fmtMistake(msg string) bool {
	return strings.Contains(quotedRE.ReplaceAllString(msg, `""`), "%!")
}
