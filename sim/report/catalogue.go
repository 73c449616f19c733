package report

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Requirement is one entry of the requirements catalogue (REQUIREMENTS.md).
type Requirement struct {
	ID      string // e.g. "HV-2"; scenarios carry it as the tag "@HV-2"
	Section string // the heading it is under, e.g. "HV: client hostname validation"
	Summary string // the first sentence, plain text, at most summaryMax runes
	Text    string // the whole entry, plain text
	Line    int    // 1-based line in the catalogue
}

const summaryMax = 100

var (
	entryRe   = regexp.MustCompile(`^[-*] \*\*([A-Z]+-[0-9]+)\*\*\s*(.*)$`)
	headingRe = regexp.MustCompile(`^#{2,6}\s+(.*?)\s*#*\s*$`)
	// idTagRe is what a requirement tag looks like, catalogued or not.
	idTagRe = regexp.MustCompile(`^@([A-Z]+-[0-9]+)$`)
)

// LoadCatalogue parses a REQUIREMENTS.md-style catalogue: entries are list
// items "- **HV-1** text" (indented lines continue an entry) under "## "
// section headings. An ID listed twice, or a catalogue with no entries, is
// an error naming the line.
func LoadCatalogue(markdown []byte) ([]Requirement, error) {
	var reqs []Requirement
	first := make(map[string]int)
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(markdown))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if m := headingRe.FindStringSubmatch(line); m != nil {
			section = m[1]
			continue
		}
		if m := entryRe.FindStringSubmatch(line); m != nil {
			if at, dup := first[m[1]]; dup {
				return nil, fmt.Errorf("requirements catalogue: line %d: %s is listed twice (first on line %d)", n, m[1], at)
			}
			first[m[1]] = n
			reqs = append(reqs, Requirement{ID: m[1], Section: section, Text: m[2], Line: n})
			continue
		}
		if len(reqs) > 0 && strings.HasPrefix(line, "  ") && strings.TrimSpace(line) != "" && reqs[len(reqs)-1].Section == section {
			last := &reqs[len(reqs)-1]
			last.Text += " " + strings.TrimSpace(line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("requirements catalogue: %w", err)
	}
	if len(reqs) == 0 {
		return nil, fmt.Errorf("requirements catalogue: no entries; want lines such as \"- **HV-1** text\"")
	}
	for i := range reqs {
		reqs[i].Text = plain(reqs[i].Text)
		reqs[i].Summary = summarize(reqs[i].Text)
	}
	return reqs, nil
}

// plain drops the Markdown emphasis and code marks.
func plain(s string) string {
	return strings.NewReplacer("**", "", "`", "").Replace(s)
}

// summarize returns the first sentence of s, cut to summaryMax runes. A
// sentence ends at ". " unless the period closes "e.g.", "i.e." or "...".
func summarize(s string) string {
	end := len(s)
	for i := 0; i+1 < len(s); i++ {
		if s[i] != '.' || s[i+1] != ' ' || i > 0 && s[i-1] == '.' { // "..." ends no sentence
			continue
		}
		if strings.HasSuffix(s[:i], "e.g") || strings.HasSuffix(s[:i], "i.e") {
			continue
		}
		end = i + 1
		break
	}
	s = s[:end]
	if utf8.RuneCountInString(s) > summaryMax {
		r := []rune(s)
		s = strings.TrimSpace(string(r[:summaryMax-1])) + "…"
	}
	return s
}
