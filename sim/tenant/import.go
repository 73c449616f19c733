package tenant

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/c2clab/c2clab/sim/configfile"
	"github.com/c2clab/c2clab/sim/device"
)

// Import reads saved ZPA API bodies (and at most one tenant file with the
// lab's own parts: name, regex, users, tests, ...) and writes one tenant
// file in the lab's format. It is the loader's own reading of pasted
// bodies, not a second one: the sources become one document that pastes
// every body under bodies: (beside the tenant file's sections), the loader
// loads it as it loads any tenant file, and what it reports is pointed
// back at the sources' own lines. The tenant file written is then loaded
// again and must give the same policy, so that it says what the bodies
// said.

// Source is one input of Import.
type Source struct {
	// Name is the file name errors and the report use.
	Name string
	Data []byte
}

// ImportOptions configure Import. The zero value writes a tenant named
// "imported" whose device paths are relative to the current directory.
type ImportOptions struct {
	// Output is where the tenant file will be written: the device paths
	// of tests: are rewritten relative to its directory.
	Output string
	// Name is the tenant's name when no tenant file among the sources
	// gives one; default the output file's base name, else "imported".
	Name string
	// FS, if set, is where the sources' device files are read (relative
	// to the tenant file source's Name, a path in FS); paths are then kept
	// as written.
	FS fs.FS
}

// Imported is what Import made.
type Imported struct {
	// File is the tenant file, YAML.
	File []byte
	// Tenant is File loaded.
	Tenant   *Tenant
	Warnings []Warning
	// Sources says what each source was taken as, in order.
	Sources []SourceReport
	// Ignored is every field of the bodies the lab does not take, with
	// whether it can change a decision and why.
	Ignored []IgnoredField
}

// SourceReport is one source as Import recognized it.
type SourceReport struct {
	Name string `json:"file"`
	// What it is: "tenant file", "page of 4 application segments
	// (totalPages 2)", "one access rule", ...
	What string `json:"what"`
}

// IgnoredField is one field name of one kind of object that the lab does
// not take.
type IgnoredField struct {
	File  string `json:"file"`
	Line  int    `json:"line"`
	Field string `json:"field"`
	Kind  string `json:"kind"`  // "application segment"
	Name  string `json:"name"`  // the field's name
	Count int    `json:"count"` // how many times it occurs
	// CanChange is true when ignoring it can change a decision.
	CanChange bool   `json:"canChangeDecision"`
	Value     string `json:"value,omitempty"` // the value that makes it a decision, if one
	Why       string `json:"why"`
}

// importer holds one Import's sources and where each part of the
// combined document came from.
type importer struct {
	opts    ImportOptions
	srcs    []Source
	docs    []*configfile.Doc
	roots   []*yaml.Node
	base    int // index of the tenant file source; -1 if none
	name    string
	places  []place
	reports []SourceReport
	// combined is the document the loader read.
	combined *yaml.Node
	warns    []Warning // the loader's, relocated
}

func decisionWarnings(ws []Warning) []Warning {
	var out []Warning
	for _, w := range ws {
		if !w.NoDecision {
			out = append(out, w)
		}
	}
	return out
}

// place maps a field prefix of the combined document to a source.
type place struct {
	prefix string // in the combined document: "bodies[3]", "users"
	src    int
	at     string // the same place in the source: "", "users"
}

const combinedName = "<import>"

// Import reads srcs and makes one tenant of them; see the comment above.
// Errors name the source file, line and field.
func Import(srcs []Source, opts ImportOptions) (*Imported, error) {
	im := &importer{opts: opts, srcs: srcs, base: -1}
	if err := im.read(); err != nil {
		return nil, err
	}
	combined, err := im.combine()
	if err != nil {
		return nil, err
	}
	t, f, warns, err := parseFile(combinedName, combined, im.deviceFiles(false))
	im.relocateWarnings(warns)
	im.warns = warns
	if err != nil {
		return nil, im.relocate(err)
	}
	out := &Imported{Tenant: t, Warnings: warns, Sources: im.reports}
	out.Ignored = im.ignoredFields(f)
	out.File, err = im.write(t, f)
	if err != nil {
		return nil, err
	}
	if err := im.roundTrip(out); err != nil {
		return nil, err
	}
	out.Tenant.Path = opts.Output
	return out, nil
}

// read parses every source and tells the tenant file from the bodies.
func (im *importer) read() error {
	if len(im.srcs) == 0 {
		return errors.New("tenant import: no files given; want saved ZPA API response bodies (JSON) and at most one tenant file")
	}
	var errs []error
	for i, s := range im.srcs {
		doc, root, err := configfile.Index(s.Name, s.Data)
		im.docs, im.roots = append(im.docs, doc), append(im.roots, root)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if isTenantFile(root) {
			if im.base >= 0 {
				errs = append(errs, &configfile.Error{File: s.Name, Msg: fmt.Sprintf(
					"is a tenant file, and so is %s: give one tenant file (the lab's own parts: name, regex, users, tests), the rest as saved ZPA bodies", im.srcs[im.base].Name)})
				continue
			}
			im.base = i
		}
	}
	return errors.Join(errs...)
}

// isTenantFile: a mapping whose every key is a tenant file field. Every
// ZPA body has a field the tenant file lacks (list, totalPages,
// domainNames, policyType, action, ...).
func isTenantFile(n *yaml.Node) bool {
	if n.Kind != yaml.MappingNode || len(n.Content) == 0 {
		return false
	}
	for _, k := range mappingKeys(n) {
		if _, ok := structField(reflect.TypeFor[fileTenant](), k); !ok {
			return false
		}
	}
	return true
}

// combine builds the document the loader reads: the tenant file's
// sections, then every body under bodies:.
func (im *importer) combine() ([]byte, error) {
	root := &yaml.Node{Kind: yaml.MappingNode}
	bodies := &yaml.Node{Kind: yaml.SequenceNode}
	if im.base >= 0 {
		b := im.roots[im.base]
		for i := 0; i+1 < len(b.Content); i += 2 {
			k, v := b.Content[i], b.Content[i+1]
			if k.Value == "bodies" && v.Kind == yaml.SequenceNode {
				for j, c := range v.Content {
					im.places = append(im.places, place{fmt.Sprintf("bodies[%d]", len(bodies.Content)), im.base, fmt.Sprintf("bodies[%d]", j)})
					bodies.Content = append(bodies.Content, c)
				}
				continue
			}
			im.places = append(im.places, place{k.Value, im.base, k.Value})
			root.Content = append(root.Content, k, v)
		}
		im.name = scalar(mappingValue(b, "name"))
		im.reports = append(im.reports, SourceReport{im.srcs[im.base].Name, "tenant file (its own sections are kept as written)"})
	}
	for i, r := range im.roots {
		if i == im.base {
			continue
		}
		if im.ownSection(root, i, r) {
			continue
		}
		im.places = append(im.places, place{fmt.Sprintf("bodies[%d]", len(bodies.Content)), i, ""})
		bodies.Content = append(bodies.Content, r)
		im.reports = append(im.reports, SourceReport{im.srcs[i].Name, describeSource(r)})
	}
	if im.name == "" {
		im.name = im.defaultName()
		root.Content = append(root.Content, strNode("name"), strNode(im.name))
	}
	if len(bodies.Content) > 0 {
		root.Content = append(root.Content, strNode("bodies"), bodies)
	}
	im.combined = root
	plainStyle(root) // one key a line, so that errors find their field
	data, err := yaml.Marshal(root)
	if err != nil {
		return nil, fmt.Errorf("tenant import: %w", err)
	}
	return data, nil
}

// ownSection puts the objects of a body of client-to-client IP ranges or
// approvals into their own section of the combined document, as they
// are, where this build's tenant file has that section (see ownSection in
// shapes.go); it reports whether it did.
func (im *importer) ownSection(root *yaml.Node, src int, r *yaml.Node) bool {
	b := recognize(r, "")
	key := kinds[b.kind].section
	if b.problem != "" || !ownSection(b.kind) {
		return false
	}
	if _, ok := structField(reflect.TypeFor[fileTenant](), key); !ok {
		return false
	}
	sec := mappingValue(root, key)
	if sec == nil {
		sec = &yaml.Node{Kind: yaml.SequenceNode}
		root.Content = append(root.Content, strNode(key), sec)
	}
	if sec.Kind != yaml.SequenceNode {
		return false
	}
	for _, it := range b.items {
		im.places = append(im.places, place{fmt.Sprintf("%s[%d]", key, len(sec.Content)), src, strings.TrimPrefix(it.path, ".")})
		sec.Content = append(sec.Content, it.n)
	}
	im.reports = append(im.reports, SourceReport{im.srcs[src].Name, describeSource(r) + ", taken into " + key + ":"})
	return true
}

func (im *importer) defaultName() string {
	switch {
	case im.opts.Name != "":
		return im.opts.Name
	case im.opts.Output != "" && im.opts.Output != "-":
		return baseName(im.opts.Output)
	}
	return "imported"
}

func strNode(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

// describeSource says what a body is, for the report.
func describeSource(n *yaml.Node) string {
	var parts []string
	add := func(b pastedBody) {
		switch {
		case b.problem != "":
			parts = append(parts, "not recognized")
		case b.page && len(b.items) == 0:
			parts = append(parts, "an empty page")
		case b.page:
			s := fmt.Sprintf("a page of %d %ss", len(b.items), b.kind)
			if b.totalPages != "" {
				s += fmt.Sprintf(" (totalPages %s, totalCount %s)", b.totalPages, b.totalCount)
			}
			parts = append(parts, s)
		default:
			parts = append(parts, b.kind.a())
		}
	}
	b := recognize(n, "")
	if n.Kind == yaml.SequenceNode && b.problem == "" {
		return fmt.Sprintf("a list of %d %ss", len(b.items), b.kind)
	}
	add(b)
	return parts[0]
}

// deviceFiles reads the tenant file's device files: relative to it, or
// (output) relative to the tenant file written.
func (im *importer) deviceFiles(output bool) deviceFiles {
	if im.opts.FS != nil {
		dir := "."
		if im.base >= 0 {
			dir = path.Dir(im.srcs[im.base].Name)
		}
		return fsFiles(im.opts.FS, dir)
	}
	if output {
		return osFiles(im.outDir(), device.Load)
	}
	dir := "."
	if im.base >= 0 {
		dir = filepath.Dir(im.srcs[im.base].Name)
	}
	return osFiles(dir, device.Load)
}

func (im *importer) outDir() string {
	if im.opts.Output == "" || im.opts.Output == "-" {
		return "."
	}
	return filepath.Dir(im.opts.Output)
}

// locate turns a field of the combined document into the source's file,
// line and field.
func (im *importer) locate(field string) (file string, line int, at string, ok bool) {
	best := -1
	for i, p := range im.places {
		if hasFieldPrefix(field, p.prefix) && (best < 0 || len(p.prefix) > len(im.places[best].prefix)) {
			best = i
		}
	}
	if best < 0 {
		return "", 0, "", false
	}
	p := im.places[best]
	at = p.at + strings.TrimPrefix(field, p.prefix)
	at = strings.TrimPrefix(at, ".")
	return im.srcs[p.src].Name, im.docs[p.src].Line(at), at, true
}

func hasFieldPrefix(field, prefix string) bool {
	rest, ok := strings.CutPrefix(field, prefix)
	return ok && (rest == "" || rest[0] == '.' || rest[0] == '[')
}

// relocate points every error about the combined document at its source.
func (im *importer) relocate(err error) error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			im.relocate(e)
		}
		return err
	}
	var ce *configfile.Error
	if errors.As(err, &ce) && ce.File == combinedName {
		if file, line, at, ok := im.locate(ce.Field); ok {
			ce.File, ce.Line, ce.Field, ce.Column = file, line, at, 0
		} else {
			ce.File, ce.Line, ce.Column = "tenant import", 0, 0
		}
	}
	return err
}

func (im *importer) relocateWarnings(ws []Warning) {
	for i := range ws {
		if ws[i].File != combinedName {
			continue
		}
		if file, line, at, ok := im.locate(ws[i].Field); ok {
			ws[i].File, ws[i].Line, ws[i].Field = file, line, at
		} else {
			ws[i].File, ws[i].Line = "tenant import", 0
		}
	}
}

// ignoredFields lists what the loader ignored in the bodies, with reasons.
func (im *importer) ignoredFields(f *fileTenant) []IgnoredField {
	var out []IgnoredField
	for _, s := range []struct {
		name string
		p    *pasted
	}{{"application", &f.Application}, {"policySet", &f.PolicySet}, {"bodies", &f.Bodies}} {
		for _, n := range s.p.ignored {
			file, line, at, _ := im.locate(joinField(s.name, n.field))
			out = append(out, IgnoredField{File: file, Line: line, Field: at, Kind: n.kind.String(), Name: n.name,
				Count: n.count, CanChange: n.change, Value: n.value, Why: n.why})
		}
	}
	slices.SortStableFunc(out, func(a, b IgnoredField) int {
		switch {
		case a.CanChange == b.CanChange:
			return 0
		case a.CanChange:
			return -1
		}
		return 1
	})
	return out
}

// normalized are the sections Import writes from what it loaded; the
// tenant file's other sections are kept as written.
var normalized = []string{"application", "policySet", "bodies", "segmentGroups", "serverGroups",
	"applicationSegments", "rules", "scimGroups", "scimAttributes", "samlAttributes", "idps",
	"postureProfiles", "trustedNetworks", "machineGroups"}

// write makes the tenant file: the tenant file source's own sections as
// written (device paths made relative to the output), then groups,
// segments, rules and objects in the tenant file's own fields.
func (im *importer) write(t *Tenant, f *fileTenant) ([]byte, error) {
	root := &yaml.Node{Kind: yaml.MappingNode}
	var tail []*yaml.Node // tests: goes last, after what it tests
	c := im.combined
	for i := 0; i+1 < len(c.Content); i += 2 {
		k, v := c.Content[i], c.Content[i+1]
		switch {
		case slices.Contains(normalized, k.Value):
		case k.Value == "tests":
			im.rebaseDevices(v)
			tail = append(tail, k, v)
		default:
			root.Content = append(root.Content, k, v)
		}
	}
	sections := []struct {
		key string
		v   any
	}{
		{"segmentGroups", fileGroups(t.SegmentGroups)},
		{"serverGroups", fileGroups(t.ServerGroups)},
		{"applicationSegments", im.segmentsOut(f)},
		{"rules", im.rulesOut(t, f)},
	}
	for _, ok := range objectKinds {
		sections = append(sections, struct {
			key string
			v   any
		}{kinds[ok.kind].section, im.objectsOut(ok.kind, ok.field(f), f)})
	}
	for _, s := range sections {
		var n yaml.Node
		if err := n.Encode(s.v); err != nil {
			return nil, fmt.Errorf("tenant import: write %s: %w", s.key, err)
		}
		if prune(&n) {
			continue
		}
		root.Content = append(root.Content, strNode(s.key), &n)
	}
	root.Content = append(root.Content, tail...)
	plainStyle(root)
	data, err := yaml.Marshal(root)
	if err != nil {
		return nil, fmt.Errorf("tenant import: %w", err)
	}
	return append([]byte(im.header(decisionWarnings(im.warns))), data...), nil
}

func (im *importer) header(warns []Warning) string {
	var b strings.Builder
	b.WriteString("# Written by c2clab tenant import from:\n")
	for _, r := range im.reports {
		fmt.Fprintf(&b, "#   %s: %s\n", commentSafe(r.Name), commentSafe(r.What))
	}
	b.WriteString("# Fields of the bodies that the lab ignores are listed by `c2clab tenant import`.\n")
	if len(warns) > 0 {
		b.WriteString("# What the import warned can change a decision:\n")
	}
	for _, w := range warns {
		fmt.Fprintf(&b, "#   %s\n", commentSafe(w.String()))
	}
	return b.String()
}

// commentSafe makes s one line a YAML comment can hold: line breaks and
// control characters (which a body's field names may carry) are escaped.
func commentSafe(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n':
			b.WriteString(" ")
		case isControl(r) || r == '\t':
			fmt.Fprintf(&b, "\\x%02x", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func fileGroups(gs []Group) []fileGroup {
	out := make([]fileGroup, len(gs))
	for i, g := range gs {
		out[i] = fileGroup{ID: g.ID, Name: g.Name}
	}
	return out
}

func (im *importer) segmentsOut(f *fileTenant) []fileSegment {
	out := slices.Clone(f.ApplicationSegments)
	for _, it := range pastedOf(f, kindApplication) {
		out = append(out, *it.seg)
	}
	return out
}

// rulesOut writes every rule with v1 operands only (v2 ones expanded, as
// the loader reads them) and each operand's name, where known.
func (im *importer) rulesOut(t *Tenant, f *fileTenant) []fileRule {
	rules := slices.Clone(f.Rules)
	for _, it := range pastedOf(f, kindRule) {
		rules = append(rules, *it.rule)
	}
	names := objectNames(t)
	for i := range rules {
		conds := slices.Clone(rules[i].Conditions)
		for j := range conds {
			var ops []fileOperand
			for _, r := range expandOperands("", conds[j].Operands) {
				o := r.op
				if o.Name == "" {
					o.Name = names(o)
				}
				ops = append(ops, o)
			}
			conds[j].Operands = ops
		}
		rules[i].Conditions = conds
	}
	return rules
}

// objectNames looks an operand's object up in the tenant's objects.
func objectNames(t *Tenant) func(o fileOperand) string {
	idx := map[string]string{}
	for _, ob := range t.Objects {
		for _, k := range append([]string{ob.ID}, ob.Aliases...) {
			idx[ob.Type+"\x00"+k] = ob.Name
		}
	}
	return func(o fileOperand) string {
		typ := strings.ToUpper(strings.TrimSpace(o.ObjectType))
		key, ok := operandKey(policyOperand(typ, o))
		if !ok {
			return ""
		}
		return idx[typ+"\x00"+key]
	}
}

func (im *importer) objectsOut(kind bodyKind, have []fileObject, f *fileTenant) []fileObject {
	out := slices.Clone(have)
	for _, it := range pastedOf(f, kind) {
		if !slices.ContainsFunc(out, func(o fileObject) bool { return o.ID == it.obj.ID }) {
			out = append(out, *it.obj)
		}
	}
	return out
}

// pastedOf is every pasted item of kind, in file order.
func pastedOf(f *fileTenant, kind bodyKind) []*pastedItem {
	l := &loader{f: f}
	var out []*pastedItem
	for _, fi := range l.pastedItems(kind) {
		out = append(out, fi.item)
	}
	return out
}

// prune removes empty values (null, "", [], {}) from mappings, since the
// file types write every field; it reports whether n itself is empty. A
// list keeps every entry, empty ones too: a condition without operands is
// not the same as no condition (it matches nothing).
func prune(n *yaml.Node) bool {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			prune(c)
		}
		return len(n.Content) == 0
	case yaml.MappingNode:
		kept := n.Content[:0]
		for i := 0; i+1 < len(n.Content); i += 2 {
			if !prune(n.Content[i+1]) {
				kept = append(kept, n.Content[i], n.Content[i+1])
			}
		}
		n.Content = kept
		return len(n.Content) == 0
	case yaml.ScalarNode:
		return n.ShortTag() == "!!null" || n.Value == ""
	}
	return false
}

// plainStyle writes JSON-born nodes as block YAML, one field a line. A
// scalar with a control character is written double-quoted, the one style
// in which YAML escapes it (yaml.v3 may otherwise write it raw, which it
// then cannot read back).
func plainStyle(n *yaml.Node) {
	n.Style &^= yaml.FlowStyle
	if n.Kind == yaml.ScalarNode && strings.IndexFunc(n.Value, isControl) >= 0 {
		n.Style = yaml.DoubleQuotedStyle
	}
	for _, c := range n.Content {
		plainStyle(c)
	}
}

func isControl(r rune) bool {
	return r < 0x20 && r != '\n' && r != '\t' || r == 0x7f || r >= 0x80 && r < 0xa0 || r == 0xfeff
}

// rebaseDevices rewrites the device paths of tests: (relative to the
// tenant file source) relative to the output file's directory.
func (im *importer) rebaseDevices(tests *yaml.Node) {
	if im.opts.FS != nil || tests.Kind != yaml.SequenceNode {
		return
	}
	from := filepath.Dir(im.srcs[im.base].Name)
	to := im.outDir()
	rebase := func(n *yaml.Node) {
		if n == nil || n.Kind != yaml.ScalarNode || n.Value == "" || filepath.IsAbs(n.Value) {
			return
		}
		abs, err1 := filepath.Abs(filepath.Join(from, filepath.FromSlash(n.Value)))
		base, err2 := filepath.Abs(to)
		if err1 != nil || err2 != nil {
			return
		}
		if rel, err := filepath.Rel(base, abs); err == nil {
			n.Value = filepath.ToSlash(rel)
		}
	}
	for _, tc := range tests.Content {
		rebase(mappingValue(tc, "from"))
		if ds := mappingValue(tc, "devices"); ds != nil && ds.Kind == yaml.SequenceNode {
			for _, d := range ds.Content {
				rebase(d)
			}
		}
	}
}

// roundTrip loads the file written and requires the same policy: a file
// that said less than the bodies would be a smaller tenant without a word.
func (im *importer) roundTrip(out *Imported) error {
	name := im.opts.Output
	if name == "" || name == "-" {
		name = "tenant.yaml"
	}
	t2, _, err := parse(name, out.File, im.deviceFiles(true))
	if err != nil {
		return fmt.Errorf("tenant import: the tenant file written does not load (a bug in c2clab; please report it with the bodies): %w", err)
	}
	if !reflect.DeepEqual(out.Tenant.Policy(), t2.Policy()) || len(out.Tenant.Tests) != len(t2.Tests) {
		return errors.New("tenant import: the tenant file written decides differently from the bodies (a bug in c2clab; please report it with the bodies)")
	}
	out.Tenant = t2
	return nil
}
