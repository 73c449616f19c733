package report

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"
	"time"
)

// element is one element of a parsed page, with all the text inside it.
type element struct {
	Name string
	Attr map[string]string
	Text string
}

// parseXHTML parses page strictly as XML (the HTML report is written to be
// well-formed XML too) and returns its elements in document order.
func parseXHTML(t *testing.T, page []byte) []*element {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(page))
	d.Strict = true
	var all, open []*element
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			line, col := d.InputPos()
			lines := strings.Split(string(page), "\n")
			t.Fatalf("report is not well-formed at %d:%d: %v\n%s", line, col, err, lines[min(line, len(lines))-1])
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			e := &element{Name: tok.Name.Local, Attr: make(map[string]string)}
			for _, a := range tok.Attr {
				e.Attr[a.Name.Local] = a.Value
			}
			all, open = append(all, e), append(open, e)
		case xml.EndElement:
			open = open[:len(open)-1]
		case xml.CharData:
			for _, e := range open {
				e.Text += string(tok)
			}
		}
	}
	if len(open) != 0 {
		t.Fatalf("%d elements left open", len(open))
	}
	return all
}

func find(els []*element, pred func(*element) bool) []*element {
	var out []*element
	for _, e := range els {
		if pred(e) {
			out = append(out, e)
		}
	}
	return out
}

func TestWriteHTML(t *testing.T) {
	features, cat := loadSample(t)
	s := Summary{Version: "v0.1.0", Backend: "netns", Started: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC),
		Meta: []Field{{"run ID", "c2c0a1b2c"}}, Features: features, Requirements: Requirements(features, cat)}
	var b bytes.Buffer
	if err := WriteHTML(&b, s); err != nil {
		t.Fatal(err)
	}
	els := parseXHTML(t, b.Bytes())
	for _, forbidden := range []string{"script", "link", "img", "iframe"} {
		if n := len(find(els, func(e *element) bool { return e.Name == forbidden })); n > 0 {
			t.Errorf("%d <%s> elements: the page must be self-contained, without scripts", n, forbidden)
		}
	}
	rows := find(els, func(e *element) bool { return e.Name == "tr" && strings.HasPrefix(e.Attr["id"], "req-") })
	if len(rows) != 7 {
		t.Fatalf("%d requirement rows, want 7", len(rows))
	}
	for _, want := range []struct{ id, verdict string }{{"HV-2", "failed"}, {"HV-3", "passed"}, {"EP-1", "skipped"}, {"EP-3", "missing"}, {"HV-9", "failed"}} {
		r := find(rows, func(e *element) bool { return e.Attr["id"] == "req-"+want.id })
		if len(r) != 1 || !strings.Contains(r[0].Text, want.verdict) {
			t.Errorf("row %s: %+v, want verdict %s", want.id, r, want.verdict)
		}
	}
	// Every scenario link points at a scenario on the page.
	ids := make(map[string]bool)
	for _, e := range els {
		ids[e.Attr["id"]] = true
	}
	for _, a := range find(els, func(e *element) bool { return e.Name == "a" }) {
		if !ids[strings.TrimPrefix(a.Attr["href"], "#")] {
			t.Errorf("link %q to %q points nowhere", a.Text, a.Attr["href"])
		}
	}
	rects := find(els, func(e *element) bool { return e.Name == "rect" })
	if len(rects) != 6 { // HV: passed, failed; EP: failed, skipped, missing; uncatalogued: failed
		t.Errorf("%d bars in the chart, want 6", len(rects))
	}
	page := b.String()
	for _, want := range []string{"v0.1.0", "netns", "2026-05-01T12:00:00Z", "c2c0a1b2c", "1 passed, 4 failed, 1 skipped, 1 missing",
		"needs root", "FQDN_NO_MATCH", "FQDNRegisteredError"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestWriteHTMLEscapes(t *testing.T) {
	hostile := `<script>alert("x")</script>`
	features := []Feature{{Name: "F & <b>bold</b>", URI: `x" onmouseover="alert(1)`, Scenarios: []Scenario{{
		Name: hostile, Line: 3, Tags: []string{"@HV-1", `@"><img src=x>`},
		Steps: []Step{{Keyword: "Then ", Name: "]]><!-- x", Status: Failed,
			Error:       "</pre><img src=x onerror=alert(1)>\x1b[31mred\x1b[0m \xff\x00",
			Attachments: []Attachment{{Name: `"><svg onload=alert(1)>`, MimeType: "text/plain", Data: []byte("</pre><script>x</script>")}}}},
	}}}}
	cat := []Requirement{{ID: "HV-1", Section: "<i>HV</i>", Summary: "a < b && c > d"}}
	s := Summary{Title: "</title><script>", Version: "1'2\"3", Meta: []Field{{"<k>", "<v>"}},
		Features: features, Requirements: Requirements(features, cat)}
	var b bytes.Buffer
	if err := WriteHTML(&b, s); err != nil {
		t.Fatal(err)
	}
	els := parseXHTML(t, b.Bytes())
	names := make(map[string]bool)
	for _, e := range els {
		names[e.Name] = true
		for k := range e.Attr {
			if strings.HasPrefix(k, "on") {
				t.Errorf("<%s> has event handler attribute %s", e.Name, k)
			}
		}
	}
	for _, n := range []string{"script", "img", "b", "i", "k", "v"} {
		if names[n] {
			t.Errorf("data became a <%s> element", n)
		}
	}
	summaries := find(els, func(e *element) bool { return e.Name == "summary" })
	if len(summaries) != 1 || !strings.Contains(summaries[0].Text, hostile) {
		t.Errorf("scenario name not shown literally: %+v", summaries)
	}
	pres := find(els, func(e *element) bool { return e.Name == "pre" && e.Attr["class"] == "error" })
	if len(pres) != 1 || !strings.Contains(pres[0].Text, "</pre><img src=x onerror=alert(1)>\u241b[31mred") || !strings.Contains(pres[0].Text, "\ufffd") {
		t.Errorf("error message not shown literally with visible controls: %+v", pres)
	}
	if !strings.Contains(b.String(), "a &lt; b &amp;&amp; c &gt; d") {
		t.Error("summary not escaped")
	}
}

func TestWriteHTMLEmpty(t *testing.T) {
	var b bytes.Buffer
	if err := WriteHTML(&b, Summary{}); err != nil {
		t.Fatal(err)
	}
	els := parseXHTML(t, b.Bytes())
	if title := find(els, func(e *element) bool { return e.Name == "title" }); len(title) != 1 || title[0].Text != "c2clab conformance report" {
		t.Errorf("title %+v", title)
	}
}

func TestVisibleControls(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain\ttext\r\n", "plain\ttext\r\n"},
		{"é ünïcode ✓", "é ünïcode ✓"},
		{"\x1b[0m", "\u241b[0m"},
		{"\x7f", "\u2421"},
		{"\xff", "\ufffd"},
		{"\u0085", "\ufffd"},
	} {
		if got := string(visibleControls([]byte(tc.in))); got != tc.want {
			t.Errorf("visibleControls(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
