package report

import (
	"bytes"
	"encoding/xml"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseCucumber feeds ParseCucumber any report, seeded with the sample
// godog wrote. A report it accepts must turn into JUnit XML and an HTML
// page that are well-formed XML whatever the names, steps and attachments
// hold (a CI's test tab refuses a broken junit.xml), with one testcase per
// scenario.
//
//	go test -run '^$' -fuzz '^FuzzParseCucumber$' -fuzztime 30s ./sim/report
func FuzzParseCucumber(f *testing.F) {
	sample, err := os.ReadFile("testdata/cucumber.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sample)
	f.Add([]byte(`[{"name":"f\u0000<x>","elements":[{"type":"background","steps":[{"name":"]]>","result":{"status":"failed","error_message":"\u001b[31m"}}]},{"name":"s","tags":[{"name":"@HV-1"}],"steps":[{"embeddings":[{"mime_type":"text/plain","data":"not base64"}]}]}]}]`))
	f.Add([]byte(`[{"elements":[{"name":"a"},{"name":"a"},{"name":"a #1"}]}]`))
	f.Add([]byte(`{}`))
	cat, err := LoadCatalogue([]byte("## HV\n- **HV-1** One.\n"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		features, err := ParseCucumber(bytes.NewReader(data))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "parse cucumber json: ") {
				t.Fatalf("error %q does not say what failed", err)
			}
			return
		}
		var junit bytes.Buffer
		if err := WriteJUnit(&junit, "suite", features); err != nil {
			t.Fatalf("WriteJUnit: %v", err)
		}
		scenarios := 0
		for _, f := range features {
			scenarios += len(f.Scenarios)
		}
		if cases := wellFormed(t, junit.Bytes(), "testcase"); cases != scenarios {
			t.Fatalf("junit has %d testcases for %d scenarios", cases, scenarios)
		}
		var html bytes.Buffer
		if err := WriteHTML(&html, Summary{Features: features, Requirements: Requirements(features, cat)}); err != nil {
			t.Fatalf("WriteHTML: %v", err)
		}
		wellFormed(t, html.Bytes(), "")
	})
}

// wellFormed parses doc strictly as XML and returns how many elements
// named count it has.
func wellFormed(t *testing.T, doc []byte, count string) int {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	n := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return n
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, doc)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == count {
			n++
		}
	}
}

// FuzzLoadCatalogue: a catalogue LoadCatalogue accepts has unique IDs in
// file order and summaries of at most summaryMax runes; a refusal names a
// line, or says there are no entries.
func FuzzLoadCatalogue(f *testing.F) {
	if md, err := os.ReadFile("testdata/requirements.md"); err == nil {
		f.Add(md)
	}
	f.Add([]byte("## HV\n- **HV-1** One. Two.\n  continued\n- **HV-1** again\n"))
	f.Add([]byte("- **X-1** e.g. this... is " + strings.Repeat("long ", 40) + "\n"))
	f.Add([]byte("no entries\n"))
	f.Fuzz(func(t *testing.T, md []byte) {
		reqs, err := LoadCatalogue(md)
		if err != nil {
			if msg := err.Error(); !strings.Contains(msg, "line ") && !strings.Contains(msg, "no entries") && !strings.Contains(msg, "token too long") {
				t.Fatalf("error %q names no line", msg)
			}
			return
		}
		seen := map[string]bool{}
		for i, r := range reqs {
			if seen[r.ID] || (i > 0 && r.Line <= reqs[i-1].Line) {
				t.Fatalf("requirement %d %s at line %d: repeated or out of order", i, r.ID, r.Line)
			}
			seen[r.ID] = true
			if n := utf8.RuneCountInString(r.Summary); n > summaryMax {
				t.Fatalf("%s: summary of %d runes: %s", r.ID, n, strconv.Quote(r.Summary))
			}
		}
	})
}
