package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// godog's own junit formatter (v0.15) marks a skipped scenario
// status="passed" with one <error type="skipped"> per skipped step, so CI
// tools count skips as errors, always writes skipped="0", adds such <error>s
// to failed scenarios too, and drops the skip reason. WriteJUnit writes the
// usual shape instead: <failure> for a failed step, <error> for an
// undefined, pending or ambiguous one, <skipped message="reason"/> for a
// skip, and the step transcript in system-out.

type (
	junitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     string       `xml:"name,attr"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Errors   int          `xml:"errors,attr"`
		Skipped  int          `xml:"skipped,attr"`
		Time     string       `xml:"time,attr"`
		Suites   []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name     string      `xml:"name,attr"`
		Tests    int         `xml:"tests,attr"`
		Failures int         `xml:"failures,attr"`
		Errors   int         `xml:"errors,attr"`
		Skipped  int         `xml:"skipped,attr"`
		Time     string      `xml:"time,attr"`
		Cases    []junitCase `xml:"testcase"`
	}
	junitCase struct {
		Name      string        `xml:"name,attr"`
		Classname string        `xml:"classname,attr"`
		Time      string        `xml:"time,attr"`
		Failure   *junitProblem `xml:"failure,omitempty"`
		Error     *junitProblem `xml:"error,omitempty"`
		Skipped   *junitProblem `xml:"skipped,omitempty"`
		SystemOut string        `xml:"system-out,omitempty"`
	}
	junitProblem struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr,omitempty"`
		Text    string `xml:",chardata"`
	}
)

// WriteJUnit writes features as JUnit XML: one testsuite per feature, one
// testcase per scenario (outline rows numbered " #n" when names repeat).
func WriteJUnit(w io.Writer, suite string, features []Feature) error {
	out := junitSuites{Name: suite}
	var total time.Duration
	for _, f := range features {
		js := junitSuite{Name: f.Name}
		var d time.Duration
		seen, dup := make(map[string]int), make(map[string]int)
		for _, s := range f.Scenarios {
			dup[s.Name]++
		}
		for _, s := range f.Scenarios {
			name := s.Name
			if dup[s.Name] > 1 {
				seen[s.Name]++
				name = fmt.Sprintf("%s #%d", s.Name, seen[s.Name])
			}
			c := junitTestCase(&s, name, f.Name)
			js.Tests++
			switch {
			case c.Failure != nil:
				js.Failures++
			case c.Error != nil:
				js.Errors++
			case c.Skipped != nil:
				js.Skipped++
			}
			js.Cases = append(js.Cases, c)
			d += s.Duration()
		}
		js.Time = seconds(d)
		total += d
		out.Tests += js.Tests
		out.Failures += js.Failures
		out.Errors += js.Errors
		out.Skipped += js.Skipped
		out.Suites = append(out.Suites, js)
	}
	out.Time = seconds(total)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func junitTestCase(s *Scenario, name, feature string) junitCase {
	c := junitCase{Name: name, Classname: feature, Time: seconds(s.Duration()), SystemOut: transcript(s)}
	switch s.Status() {
	case Failed:
		p := &junitProblem{Message: s.Reason(), Type: string(firstBad(s)), Text: s.Reason()}
		if p.Type == string(Failed) {
			c.Failure = p
		} else {
			c.Error = p
		}
	case Skipped:
		c.Skipped = &junitProblem{Message: s.Reason()}
	}
	return c
}

// firstBad is the status of the first step that is neither passed nor skipped.
func firstBad(s *Scenario) Status {
	for _, st := range slices.Concat(s.Steps, s.Hooks) {
		if st.Status != Passed && st.Status != Skipped {
			return st.Status
		}
	}
	return Failed
}

// transcript lists the steps with their status, as a reader of a CI log
// wants them.
func transcript(s *Scenario) string {
	var b strings.Builder
	for _, st := range s.Steps {
		fmt.Fprintf(&b, "%-9s %s%s\n", st.Status, st.Keyword, st.Name)
		if st.Error != "" {
			fmt.Fprintf(&b, "          %s\n", strings.ReplaceAll(st.Error, "\n", "\n          "))
		}
	}
	return b.String()
}

func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}
