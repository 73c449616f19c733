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
	"reflect"
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
	Path   string
	root   *yaml.Node
	paths  []fieldPos   // sorted by line
	target reflect.Type // what the file decodes into, to list accepted fields

	// Indexes into paths, so that a file at ZPA's limits (thousands of
	// fields) and one with thousands of errors load in linear time.
	byPath     map[string]int // first of each path
	byLine     map[int][]int  // by fieldPos.line, in paths order
	byNodeLine map[int][]int  // by the line the value starts on, in paths order
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
	d := &Doc{Path: path, target: reflect.TypeOf(v)}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, d.fromYAMLError(err)
	}
	if root.Kind == 0 {
		return nil, &Error{File: path, Msg: "file is empty"}
	}
	d.root = &root
	d.index(&root, "")
	d.sortPaths()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		return nil, d.fromYAMLError(err)
	}
	if errs := d.wholeNumbers(&root, d.target, "", 0); len(errs) > 0 {
		return nil, errors.Join(errs...)
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
		if i, ok := d.byPath[p]; ok {
			return d.paths[i].node
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
	_, ok := d.byPath[field]
	return ok
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
}

// sortPaths orders paths by line, once the whole file is indexed, and
// builds the lookups.
func (d *Doc) sortPaths() {
	sort.SliceStable(d.paths, func(i, j int) bool { return d.paths[i].line < d.paths[j].line })
	d.byPath = make(map[string]int, len(d.paths))
	d.byLine = map[int][]int{}
	d.byNodeLine = map[int][]int{}
	for i, fp := range d.paths {
		if _, dup := d.byPath[fp.path]; !dup {
			d.byPath[fp.path] = i
		}
		d.byLine[fp.line] = append(d.byLine[fp.line], i)
		d.byNodeLine[fp.node.Line] = append(d.byNodeLine[fp.node.Line], i)
	}
}

// fieldAt returns the deepest field path that starts on line.
func (d *Doc) fieldAt(line int) string {
	best := ""
	for _, i := range d.byLine[line] {
		if p := d.paths[i].path; len(p) > len(best) {
			best = p
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
	field := d.fieldAt(line)
	msg = m[2]
	if f, text, ok := d.typeError(line, msg); ok {
		return &Error{File: d.Path, Line: line, Field: f, Msg: text}
	}
	// For an unknown field, name that field rather than whatever a flow
	// value on the same line nests deepest ("domainName", not "domainName[0]").
	if k := unknownRE.FindStringSubmatch(msg); k != nil {
		if f := d.keyAt(line, k[1]); f != "" {
			field = f
		}
		// Say what would be accepted instead of naming a Go type.
		msg = "field " + showKey(k[1]) + " not found"
		if want := acceptedFields(d.target, parentPath(field, k[1])); len(want) > 0 {
			msg += "; want one of: " + strings.Join(want, ", ")
		}
	}
	return &Error{File: d.Path, Line: line, Field: field, Msg: msg}
}

var unknownRE = regexp.MustCompile(`^field (.+) not found in type \S+$`)

var plainKeyRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// showKey quotes a key that is not a plain word, so that the message shows
// where it starts and ends.
func showKey(k string) string {
	if plainKeyRE.MatchString(k) {
		return k
	}
	return strconv.Quote(k)
}

// parentPath strips the last key from field ("a[0].b" -> "a[0]").
func parentPath(field, key string) string {
	p := strings.TrimSuffix(field, key)
	return strings.TrimSuffix(p, ".")
}

var pathPart = regexp.MustCompile(`[^.\[\]]+|\[\d+\]`)

// typeAt returns the type the value at path (within t) decodes into, or
// nil if path leads nowhere in t.
func typeAt(t reflect.Type, path string) reflect.Type {
	for _, part := range pathPart.FindAllString(path, -1) {
		t = derefType(t)
		switch {
		case t == nil:
			return nil
		case strings.HasPrefix(part, "[") && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array):
			t = t.Elem()
		case t.Kind() == reflect.Map:
			t = t.Elem()
		case t.Kind() == reflect.Struct:
			f, ok := fieldByKey(t, part)
			if !ok {
				return nil
			}
			t = f.Type
		default:
			return nil
		}
	}
	return derefType(t)
}

// acceptedFields lists the keys the struct at path (within t) accepts, or
// nil if path does not lead to a struct.
func acceptedFields(t reflect.Type, path string) []string {
	t = typeAt(t, path)
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		if k := yamlKey(t.Field(i)); k != "" {
			keys = append(keys, k)
		}
	}
	return keys
}

// derefType strips pointers, and a Lax part down to the type it holds.
func derefType(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t != nil && reflect.PointerTo(t).Implements(laxerType) {
		return derefType(reflect.New(t).Interface().(laxer).laxType())
	}
	return t
}

func fieldByKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		if f := t.Field(i); yamlKey(f) == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// yamlKey is the key yaml.v3 decodes into f: its tag name, else the
// lowercased field name; "" for unexported or skipped fields.
func yamlKey(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	switch name {
	case "-":
		return ""
	case "":
		return strings.ToLower(f.Name)
	}
	return name
}

// keyAt returns the path of the mapping key named key that starts on line.
func (d *Doc) keyAt(line int, key string) string {
	for _, i := range d.byLine[line] {
		if p := d.paths[i].path; p == key || strings.HasSuffix(p, "."+key) {
			return p
		}
	}
	return ""
}

// Lax holds a part of a file that is decoded leniently: fields of the part
// that T does not declare are ignored instead of being errors, while type
// mismatches still are (with their lines). Use it where a file embeds data
// written by another system that carries many fields the lab does not model,
// such as a ZPA API export; everywhere else decoding stays strict.
type Lax[T any] struct {
	Value T
	// Present is true when the file has the field at all.
	Present bool
}

// UnmarshalYAML implements yaml.Unmarshaler. A node's own Decode uses a
// fresh decoder that does not check known fields, which is what makes the
// part lax; its type errors carry lines and are merged by the outer decoder.
func (l *Lax[T]) UnmarshalYAML(n *yaml.Node) error {
	l.Present = true
	return n.Decode(&l.Value)
}

// laxer is implemented by every *Lax[T]: it tells the type checks of this
// package what a Lax part holds.
type laxer interface{ laxType() reflect.Type }

func (*Lax[T]) laxType() reflect.Type { return reflect.TypeFor[T]() }

var laxerType = reflect.TypeFor[laxer]()

// Index reads data as YAML (or JSON) without decoding it into a type, so
// that errors about a document the lab took apart itself (such as a saved
// ZPA API response recognized by its shape) can still name their lines.
// It returns the document's top-level value.
func Index(path string, data []byte) (*Doc, *yaml.Node, error) {
	d := &Doc{Path: path}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, nil, d.fromYAMLError(err)
	}
	if root.Kind == 0 || (root.Kind == yaml.DocumentNode && len(root.Content) == 0) {
		return nil, nil, &Error{File: path, Msg: "file is empty"}
	}
	d.root = &root
	d.index(&root, "")
	d.sortPaths()
	return d, d.top(), nil
}

// Line returns the line of field (or of its nearest present parent).
func (d *Doc) Line(field string) int {
	if n := d.Node(field); n != nil {
		return n.Line
	}
	return 0
}
