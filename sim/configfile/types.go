package configfile

import (
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// yaml.v3 reports a value of the wrong type as "cannot unmarshal !!str
// `many` into int", naming a Go type. typeErrorRE takes that apart so the
// error can name the field and say, in the file's words, what it wants.
var typeErrorRE = regexp.MustCompile("^cannot unmarshal (!!\\w+)(?: `(.*)`)? into (.+)$")

// typeError turns a yaml.v3 type error on line into the field it is about
// and a message such as `is "many", want a whole number`.
func (d *Doc) typeError(line int, msg string) (field, text string, ok bool) {
	m := typeErrorRE.FindStringSubmatch(msg)
	if m == nil {
		return "", "", false
	}
	n, field, ok := d.valueAt(line, m[1], m[2], m[3])
	if !ok {
		return "", "", false
	}
	text = fmt.Sprintf("is %s, want %s", describeNode(n), describeType(typeAt(d.target, field)))
	if field == "" {
		text = "the file " + text
	}
	return field, text, true
}

// valueAt finds the value yaml.v3 could not decode: it starts on line, has
// the given tag and, for a scalar, the value yaml.v3 quoted (cut to 7
// characters and "..." when long), and its field decodes into goType. The
// file's root has the field "".
func (d *Doc) valueAt(line int, tag, quoted, goType string) (*yaml.Node, string, bool) {
	matches := func(n *yaml.Node, field string) bool {
		if n.Line != line || n.ShortTag() != tag {
			return false
		}
		if prefix, cut := strings.CutSuffix(quoted, "..."); cut && len(n.Value) > 10 {
			if !strings.HasPrefix(n.Value, prefix) {
				return false
			}
		} else if quoted != "" && n.Value != quoted {
			return false
		}
		t := typeAt(d.target, field)
		return t != nil && t.String() == goType
	}
	if top := d.top(); top != nil && matches(top, "") {
		return top, "", true
	}
	for _, i := range d.byNodeLine[line] {
		if fp := d.paths[i]; matches(fp.node, fp.path) {
			return fp.node, fp.path, true
		}
	}
	return nil, "", false
}

// top is the file's top-level value.
func (d *Doc) top() *yaml.Node {
	if d.root == nil || d.root.Kind != yaml.DocumentNode || len(d.root.Content) == 0 {
		return d.root
	}
	return d.root.Content[0]
}

func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	v := n.Value
	if len(v) > 40 {
		v = v[:37] + "..."
	}
	return strconv.Quote(v)
}

// describeType says in the file's words what a value of type t looks like.
func describeType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map:
		return "a mapping"
	case reflect.Struct:
		if keys := acceptedFields(t, ""); len(keys) > 0 {
			return "a mapping with fields " + strings.Join(keys, ", ")
		}
		return "a mapping"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "a value of type " + t.String()
}

// maxAliasDepth bounds how far wholeNumbers follows aliases, which may
// nest (yaml.v3 itself refuses recursive ones).
const maxAliasDepth = 32

// wholeNumbers reports every number with a fraction or exponent (3389.5,
// 1e3) where t wants a whole number: yaml.v3 would truncate it silently.
// n is decoded into t at path.
func (d *Doc) wholeNumbers(n *yaml.Node, t reflect.Type, path string, aliases int) []error {
	t = derefType(t)
	if n == nil || t == nil {
		return nil
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil
		}
		return d.wholeNumbers(n.Content[0], t, path, aliases)
	case yaml.AliasNode:
		if aliases >= maxAliasDepth {
			return nil
		}
		return d.wholeNumbers(n.Alias, t, path, aliases+1)
	}
	if t.Implements(unmarshalerType) || reflect.PointerTo(t).Implements(unmarshalerType) {
		return nil // decodes itself, e.g. Impairments from "rate=50mbit"
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map, reflect.Slice, reflect.Array:
		return d.wholeNumbersIn(n, t, path, aliases)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!float" {
			return []error{&Error{File: d.Path, Line: n.Line, Column: n.Column, Field: path,
				Msg: fmt.Sprintf("is %s, want a whole number", describeNode(n))}}
		}
	}
	return nil
}

// wholeNumbersIn is wholeNumbers for the elements of a collection t.
func (d *Doc) wholeNumbersIn(n *yaml.Node, t reflect.Type, path string, aliases int) []error {
	var errs []error
	switch {
	case n.Kind == yaml.SequenceNode && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array):
		for i, c := range n.Content {
			errs = append(errs, d.wholeNumbers(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i), aliases)...)
		}
	case n.Kind == yaml.MappingNode && (t.Kind() == reflect.Map || t.Kind() == reflect.Struct):
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			et := t
			if t.Kind() == reflect.Map {
				et = t.Elem()
			} else if f, ok := fieldByKey(t, k.Value); ok {
				et = f.Type
			} else {
				continue // "<<" merges, and fields a strict decode already refused
			}
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			errs = append(errs, d.wholeNumbers(v, et, p, aliases)...)
		}
	}
	return errs
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()
