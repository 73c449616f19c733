package report

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Summary is everything the HTML report shows.
type Summary struct {
	// Title heads the page; empty: "c2clab conformance report".
	Title   string
	Version string // c2clab version
	Backend string // lab backend: loopback, netns, container
	Started time.Time
	// Duration of the run; zero: the sum of the scenario durations.
	Duration time.Duration
	// Meta is further run metadata (run ID, seed, tags, agent under test),
	// shown in order.
	Meta         []Field
	Features     []Feature
	Requirements []RequirementResult
}

// Field is one named value of run metadata.
type Field struct{ Name, Value string }

//go:embed report.html.tmpl
var pageSource string

// WriteHTML writes s as one self-contained HTML page: inline CSS, the chart
// as inline SVG, no scripts and no external assets. Everything shown is
// escaped by html/template; control characters, which neither HTML nor XML
// allows, are shown as their Unicode control pictures. The page is also
// well-formed XML.
func WriteHTML(w io.Writer, s Summary) error {
	page, err := template.New("page").Parse(pageSource)
	if err != nil {
		return fmt.Errorf("write html report: %w", err)
	}
	var buf bytes.Buffer
	if err := page.Execute(&buf, newView(s)); err != nil {
		return fmt.Errorf("write html report: %w", err)
	}
	if _, err := w.Write(visibleControls(buf.Bytes())); err != nil {
		return fmt.Errorf("write html report: %w", err)
	}
	return nil
}

// view is the page's data, prepared so that the template only prints.
type view struct {
	Summary
	Counts   Counts
	Chart    chart
	Sections []section
	Features []featureView
	Started  string
	Duration string
	anchors  map[string]string
}

type section struct {
	Name   string
	Rows   []requirementRow
	Counts Counts
}

type requirementRow struct {
	RequirementResult
	Links []scenarioLink
}

type scenarioLink struct {
	Anchor, Name string
	Status       Status
}

type featureView struct {
	Feature
	Scenarios []scenarioView
}

type scenarioView struct {
	Scenario
	Anchor   string
	Status   Status
	Reason   string
	Open     bool // failed scenarios start unfolded
	Duration string
	Steps    []stepView
}

type stepView struct {
	Step
	Duration string
	Text     []Attachment // text/plain attachments, shown inline
}

func scenarioKey(uri string, line int, name string) string {
	return uri + ":" + strconv.Itoa(line) + ":" + name
}

func newView(s Summary) view {
	if s.Title == "" {
		s.Title = "c2clab conformance report"
	}
	v := view{Summary: s, Counts: Count(s.Requirements), anchors: make(map[string]string)}
	var total time.Duration
	for i, f := range s.Features {
		fv := featureView{Feature: f}
		for j, sc := range f.Scenarios {
			anchor := fmt.Sprintf("s%d-%d", i+1, j+1)
			v.anchors[scenarioKey(f.URI, sc.Line, sc.Name)] = anchor
			fv.Scenarios = append(fv.Scenarios, newScenarioView(sc, anchor))
			total += sc.Duration()
		}
		v.Features = append(v.Features, fv)
	}
	if s.Duration == 0 {
		s.Duration = total
	}
	v.Duration = s.Duration.Round(time.Millisecond).String()
	if !s.Started.IsZero() {
		v.Started = s.Started.UTC().Format(time.RFC3339)
	}
	v.Sections = v.sections(s.Requirements)
	v.Chart = newChart(v.Sections)
	return v
}

func newScenarioView(sc Scenario, anchor string) scenarioView {
	sv := scenarioView{Scenario: sc, Anchor: anchor, Status: sc.Status(), Reason: sc.Reason(),
		Duration: sc.Duration().Round(time.Microsecond).String()}
	sv.Open = sv.Status == Failed
	for _, st := range sc.Steps {
		stv := stepView{Step: st, Duration: st.Duration.Round(time.Microsecond).String()}
		for _, a := range st.Attachments {
			if strings.HasPrefix(a.MimeType, "text/") {
				stv.Text = append(stv.Text, a)
			}
		}
		sv.Steps = append(sv.Steps, stv)
	}
	return sv
}

// sections groups the results by catalogue section, in order of first
// appearance; uncatalogued IDs go last under "Not in the catalogue".
func (v *view) sections(results []RequirementResult) []section {
	var out []section
	index := make(map[string]int)
	for j, r := range results {
		name := r.Section
		switch {
		case r.Uncatalogued:
			name = "Not in the catalogue"
		case name == "":
			name = "Requirements"
		}
		i, ok := index[name]
		if !ok {
			i = len(out)
			index[name] = i
			out = append(out, section{Name: name})
		}
		row := requirementRow{RequirementResult: r}
		for _, sc := range r.Scenarios {
			row.Links = append(row.Links, scenarioLink{Anchor: v.anchors[scenarioKey(sc.URI, sc.Line, sc.Name)], Name: sc.Name, Status: sc.Status})
		}
		out[i].Rows = append(out[i].Rows, row)
		out[i].Counts = out[i].Counts.add(Count(results[j : j+1]))
	}
	return out
}

// chart is a horizontal stacked bar per section: passed, failed, skipped,
// missing requirements.
type chart struct {
	Width, Height int
	Rows          []chartRow
}

type chartRow struct {
	Label      string
	Y, TextY   int
	Segments   []segment
	Total      int
	TotalX     int
	TotalLabel string
}

type segment struct {
	X, Y, W int
	Verdict Verdict
	N       int
}

const (
	chartLabelW = 260
	chartBarW   = 400
	chartRowH   = 22
)

func newChart(sections []section) chart {
	maxTotal := 1
	for _, s := range sections {
		maxTotal = max(maxTotal, len(s.Rows))
	}
	c := chart{Width: chartLabelW + chartBarW + 60, Height: chartRowH*len(sections) + 4}
	for i, s := range sections {
		counts := s.Counts
		row := chartRow{Label: s.Name, Y: i*chartRowH + 2, TextY: i*chartRowH + 17, Total: len(s.Rows)}
		x := chartLabelW
		for _, part := range []struct {
			v Verdict
			n int
		}{{VerdictPassed, counts.Passed}, {VerdictFailed, counts.Failed}, {VerdictSkipped, counts.Skipped}, {VerdictMissing, counts.Missing}} {
			if part.n == 0 {
				continue
			}
			w := part.n * chartBarW / maxTotal
			row.Segments = append(row.Segments, segment{X: x, Y: row.Y, W: w, Verdict: part.v, N: part.n})
			x += w
		}
		row.TotalX = x + 6
		row.TotalLabel = fmt.Sprintf("%d/%d", counts.Passed, len(s.Rows))
		c.Rows = append(c.Rows, row)
	}
	return c
}

func (c Counts) add(d Counts) Counts {
	return Counts{c.Passed + d.Passed, c.Failed + d.Failed, c.Skipped + d.Skipped, c.Missing + d.Missing}
}

// visibleControls replaces what neither HTML nor XML allows in a document,
// control characters other than tab, newline and carriage return, and
// invalid UTF-8, with visible stand-ins. The template's own markup has none,
// so only data changes, and the stand-ins are plain characters that cannot
// form markup.
func visibleControls(b []byte) []byte {
	clean := true
	for _, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f || c >= 0x80 {
			clean = false
			break
		}
	}
	if clean {
		return b
	}
	var out bytes.Buffer
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		switch {
		case r == utf8.RuneError && n <= 1:
			out.WriteRune('\uFFFD')
		case r < 0x20 && r != '\t' && r != '\n' && r != '\r':
			out.WriteRune(0x2400 + r) // control pictures: U+241B is ESC
		case r == 0x7f:
			out.WriteRune('\u2421')
		case r >= 0x80 && r <= 0x9f, r == 0xFFFE, r == 0xFFFF:
			out.WriteRune('\uFFFD')
		default:
			out.Write(b[:n])
		}
		b = b[n:]
	}
	return out.Bytes()
}
