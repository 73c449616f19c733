package tenant

import (
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// pasted is a section of a tenant file holding saved ZPA API responses as
// they are: one body or a list of bodies, each a page ({totalPages,
// totalCount, list}) or one object, recognized by shape (shapes.go). Fields
// the lab does not model are ignored here (and only here), and each
// ignored field becomes a warning that says whether it can change a
// decision (ignored.go).
type pasted struct {
	Present bool
	bodies  []pastedBody
	ignored []ignoredNote
}

// pastedBody is one response body.
type pastedBody struct {
	path string // relative to the section: "" or "[2]"
	line int
	kind bodyKind
	page bool
	// totalPages and totalCount as the page gives them ("" if absent).
	totalPages, totalCount string
	items                  []pastedItem
	// problem says why nothing of the body was taken; "" if it was.
	problem string
	// problemField is where the problem is, relative to the section.
	problemField string
}

// pastedItem is one object of a body, decoded into the tenant file's
// schema.
type pastedItem struct {
	path  string // relative to the section: "", ".list[3]", "[2].list[3]"
	kind  bodyKind
	n     *yaml.Node
	seg   *fileSegment
	rule  *fileRule
	group *fileGroup
	obj   *fileObject
	set   *filePolicySet
	// apps are the ids of the applications a segment or server group
	// lists, to check that every page of GET /application was given.
	apps []string
}

// UnmarshalYAML recognizes and decodes the section. Type mismatches are
// returned as one *yaml.TypeError so that the file's decoder reports them
// with their lines; shapes it does not recognize are kept as problems for
// the loader, which knows the section's field path.
func (p *pasted) UnmarshalYAML(n *yaml.Node) error {
	p.Present = true
	var errs []string
	add := func(b pastedBody) {
		errs = append(errs, p.decode(&b)...)
		p.bodies = append(p.bodies, b)
	}
	switch {
	case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null":
	case n.Kind == yaml.SequenceNode:
		for i, c := range n.Content {
			add(recognize(c, fmt.Sprintf("[%d]", i)))
		}
	default:
		add(recognize(n, ""))
	}
	if len(errs) > 0 {
		return &yaml.TypeError{Errors: errs}
	}
	return nil
}

// recognize tells what one body is.
func recognize(n *yaml.Node, path string) pastedBody {
	b := pastedBody{path: path, line: n.Line}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.SequenceNode {
		// A JSON array of objects: GET .../v2/ipRanges answers so, and a
		// page's list saved alone looks so.
		return listBody(b, n.Content, path)
	}
	if !isPage(n) {
		b.kind = objectKind(n)
		if b.kind == kindUnknown {
			b.problem = fmt.Sprintf("is %s; want %s", shapeOf(n), recognizedShapes)
			b.problemField = path
			return b
		}
		b.items = []pastedItem{{path: path, kind: b.kind, n: n}}
		return b
	}
	b.page = true
	b.totalPages = scalar(mappingValue(n, "totalPages"))
	b.totalCount = scalar(mappingValue(n, "totalCount"))
	list := mappingValue(n, "list")
	if list == nil || list.Kind == yaml.ScalarNode && list.ShortTag() == "!!null" {
		return b // an empty page: ZPA leaves list out
	}
	if list.Kind != yaml.SequenceNode {
		b.problem = fmt.Sprintf("is %s, want a list of objects", shapeOf(list))
		b.problemField = path + ".list"
		return b
	}
	return listBody(b, list.Content, path+".list")
}

// listBody recognizes the objects of a page's list (or a bare list).
func listBody(b pastedBody, list []*yaml.Node, path string) pastedBody {
	for j, c := range list {
		k := objectKind(c)
		if c.Kind == yaml.ScalarNode {
			k = kindSCIMValues
		}
		field := fmt.Sprintf("%s[%d]", path, j)
		switch {
		case k == kindUnknown:
			b.problem = fmt.Sprintf("is %s; want one object of a page of %s", shapeOf(c), recognizedShapes)
		case j > 0 && k != b.kind:
			b.problem = fmt.Sprintf("is %s, but list[0] is %s: a page holds objects of one kind", k.a(), b.kind.a())
		}
		if b.problem != "" {
			b.problemField, b.items = field, nil
			return b
		}
		b.kind = k
		b.items = append(b.items, pastedItem{path: field, kind: k, n: c})
	}
	return b
}

// decode decodes every item of b leniently (fields the schema lacks are
// ignored, type mismatches are errors) and notes what it ignored.
func (p *pasted) decode(b *pastedBody) []string {
	var errs []string
	var rules []pastedItem
	for i := range b.items {
		it := &b.items[i]
		var target any
		switch it.kind {
		case kindApplication:
			it.seg = &fileSegment{}
			target = it.seg
		case kindRule:
			it.rule = &fileRule{}
			target = it.rule
		case kindPolicySet:
			it.set = &filePolicySet{}
			target = it.set
		case kindSegmentGroup, kindServerGroup:
			it.group = &fileGroup{}
			target = it.group
			var apps struct {
				Applications []struct {
					ID string `yaml:"id"`
				} `yaml:"applications"`
			}
			errs = append(errs, typeErrors(it.n, it.n.Decode(&apps))...)
			for _, a := range apps.Applications {
				it.apps = append(it.apps, strings.TrimSpace(a.ID))
			}
		case kindSCIMValues:
			continue
		case kindIPRange, kindApproval:
			continue // read from their own sections (ownSection)
		default:
			it.obj = &fileObject{}
			target = it.obj
		}
		if e := typeErrors(it.n, it.n.Decode(target)); len(e) > 0 {
			errs = append(errs, e...)
			continue
		}
		p.noteIgnored(it.kind, it.n, reflect.TypeOf(target).Elem(), it.path)
		if it.set != nil {
			for k := range it.set.Rules {
				rules = append(rules, pastedItem{path: fmt.Sprintf("%s.rules[%d]", it.path, k), kind: kindRule, rule: &it.set.Rules[k]})
			}
		}
	}
	b.items = append(b.items, rules...)
	return errs
}

// typeErrors returns the messages of a *yaml.TypeError from decoding n,
// each said in the file's words ("is \"a.example.com\", want a list")
// rather than Go's, with its line so that the file's decoder names the
// field; any other error (which a node's Decode does not return) is one
// message.
func typeErrors(n *yaml.Node, err error) []string {
	if err == nil {
		return nil
	}
	te, ok := err.(*yaml.TypeError)
	if !ok {
		return []string{err.Error()}
	}
	out := make([]string, len(te.Errors))
	for i, m := range te.Errors {
		out[i] = plainTypeError(n, m)
	}
	return out
}

var yamlTypeErrorRE = regexp.MustCompile("^line (\\d+): cannot unmarshal (!!\\w+)(?: `(.*)`)? into (.+)$")

func plainTypeError(n *yaml.Node, msg string) string {
	m := yamlTypeErrorRE.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	line, _ := strconv.Atoi(m[1])
	got := map[string]string{"!!map": "a mapping", "!!seq": "a list"}[m[2]]
	if got == "" {
		got = strconv.Quote(fullScalar(n, line, m[3]))
	}
	want := "a value of type " + m[4]
	switch {
	case strings.HasPrefix(m[4], "[]"):
		want = "a list"
	case m[4] == "string":
		want = "a string"
	case strings.HasPrefix(m[4], "tenant."):
		want = "a mapping"
	}
	return fmt.Sprintf("line %d: is %s, want %s", line, got, want)
}

// fullScalar finds the scalar yaml.v3 quoted (cut to 7 characters and
// "...") on line within n.
func fullScalar(n *yaml.Node, line int, quoted string) string {
	prefix, cut := strings.CutSuffix(quoted, "...")
	var found string
	var walk func(*yaml.Node)
	walk = func(c *yaml.Node) {
		if found != "" {
			return
		}
		if c.Kind == yaml.ScalarNode && c.Line == line && (c.Value == quoted || cut && strings.HasPrefix(c.Value, prefix)) {
			found = c.Value
			return
		}
		for _, k := range c.Content {
			walk(k)
		}
	}
	walk(n)
	if found == "" {
		return quoted
	}
	return found
}

func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		return ""
	}
	return strings.TrimSpace(n.Value)
}

// MarshalYAML writes nothing: a pasted section is input only, and tenant
// import writes what it holds in the tenant file's own sections.
func (p pasted) MarshalYAML() (any, error) { return nil, nil }
