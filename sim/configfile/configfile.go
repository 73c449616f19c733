// Package configfile decodes the lab's YAML and JSON files strictly and turns
// every problem into an error that names the file, the line and the field.
// JSON is read through the YAML parser (JSON is a subset of YAML 1.2) so that
// both formats get line numbers.
package configfile

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Error is a problem in a config file at a known place.
type Error struct {
	File   string
	Line   int    // 1-based; 0 if unknown
	Column int    // 1-based; 0 if unknown
	Field  string // dotted path such as "applicationSegments[2].tcpPortRange[0].from"; "" for the whole file
	Msg    string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ": %s", e.Field)
	}
	fmt.Fprintf(&b, ": %s", e.Msg)
	return b.String()
}

// Doc is a decoded file that can still point at the lines of its fields.
type Doc struct {
	Path  string
	root  *yaml.Node
	paths []fieldPos // sorted by line
}

type fieldPos struct {
	line, col int
	path      string
	node      *yaml.Node
}

// Load reads path and decodes it into v (see Parse).
func Load(path string, v any) (*Doc, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data, v)
}

// Parse decodes data into v. Unknown fields are errors, as are type
// mismatches; each error names path, line and field.
func Parse(path string, data []byte, v any) (*Doc, error) {
	d := &Doc{Path: path}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, d.fromYAMLError(err)
	}
	if root.Kind == 0 {
		return nil, &Error{File: path, Msg: "file is empty"}
	}
	d.root = &root
	d.index(&root, "")
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		return nil, d.fromYAMLError(err)
	}
	return d, nil
}

// Errorf returns an error located at field (a path as in Error.Field). If
// the field is absent from the file, the nearest present parent is used for
// the line.
func (d *Doc) Errorf(field, format string, args ...any) error {
	e := &Error{File: d.Path, Field: field, Msg: fmt.Sprintf(format, args...)}
	if n := d.Node(field); n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	return e
}

// Node returns the YAML node at field or its nearest present parent, or nil.
func (d *Doc) Node(field string) *yaml.Node {
	for p := field; ; {
		for _, fp := range d.paths {
			if fp.path == p {
				return fp.node
			}
		}
		i := strings.LastIndexAny(p, ".[")
		if i <= 0 {
			return d.root
		}
		p = p[:i]
	}
}

// Has reports whether field is present in the file, which tells a
// defaulted zero value from an explicit one.
func (d *Doc) Has(field string) bool {
	for _, fp := range d.paths {
		if fp.path == field {
			return true
		}
	}
	return false
}

func (d *Doc) index(n *yaml.Node, path string) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			d.index(c, path)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			d.paths = append(d.paths, fieldPos{k.Line, k.Column, p, v})
			d.index(v, p)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			d.paths = append(d.paths, fieldPos{c.Line, c.Column, p, c})
			d.index(c, p)
		}
	}
	sort.SliceStable(d.paths, func(i, j int) bool { return d.paths[i].line < d.paths[j].line })
}

// fieldAt returns the deepest field path that starts on line.
func (d *Doc) fieldAt(line int) string {
	best := ""
	for _, fp := range d.paths {
		if fp.line == line && len(fp.path) > len(best) {
			best = fp.path
		}
	}
	return best
}

var lineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

func (d *Doc) fromYAMLError(err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		errs := make([]error, 0, len(te.Errors))
		for _, m := range te.Errors {
			errs = append(errs, d.lineError(m))
		}
		return errors.Join(errs...)
	}
	return d.lineError(err.Error())
}

func (d *Doc) lineError(msg string) error {
	m := lineRE.FindStringSubmatch(msg)
	if m == nil {
		return &Error{File: d.Path, Msg: strings.TrimPrefix(msg, "yaml: ")}
	}
	line, _ := strconv.Atoi(m[1])
	return &Error{File: d.Path, Line: line, Field: d.fieldAt(line), Msg: m[2]}
}
