package agent

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/c2clab/c2clab/sim/code"
)

// protocolDoc is docs/PROTOCOL.md, which a vendor implements from.
func protocolDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../docs/PROTOCOL.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// afterMarker returns the text after "<!-- marker -->" up to the next
// section heading.
func afterMarker(t *testing.T, doc, marker string) string {
	t.Helper()
	_, rest, ok := strings.Cut(doc, "<!-- "+marker+" -->")
	if !ok {
		t.Fatalf("PROTOCOL.md has no <!-- %s --> marker", marker)
	}
	if i := strings.Index(rest, "\n## "); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

// fencedJSON returns the first ```json block of text.
func fencedJSON(t *testing.T, text string) []byte {
	t.Helper()
	_, rest, ok := strings.Cut(text, "```json\n")
	if !ok {
		t.Fatal("no ```json block after the marker")
	}
	block, _, ok := strings.Cut(rest, "```")
	if !ok {
		t.Fatal("unterminated ```json block")
	}
	return []byte(block)
}

// keyPaths lists the object keys of a decoded JSON value as paths.
func keyPaths(v any, prefix string, out map[string]bool) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			out[prefix+k] = true
			keyPaths(x, prefix+k+".", out)
		}
	case []any:
		for _, x := range v {
			keyPaths(x, prefix, out)
		}
	}
}

func keys(t *testing.T, data []byte) map[string]bool {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	keyPaths(v, "", out)
	return out
}

// checkExample decodes the example after marker into v strictly, checks
// that it spells every member exactly as the Go type encodes it and sets
// every one, and that the section's text names each in backquotes.
func checkExample(t *testing.T, marker string, v any) {
	doc := protocolDoc(t)
	section := afterMarker(t, doc, marker)
	example := fencedJSON(t, section)
	dec := json.NewDecoder(bytes.NewReader(example))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("PROTOCOL.md <!-- %s -->: the example does not decode into %T: %v", marker, v, err)
	}
	again, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	got, want := keys(t, example), keys(t, again)
	for k := range want {
		if !got[k] {
			t.Errorf("PROTOCOL.md <!-- %s -->: the example lacks member %q", marker, k)
		}
	}
	for k := range got {
		if !want[k] {
			t.Errorf("PROTOCOL.md <!-- %s -->: the example spells %q, which %T does not encode (case matters)", marker, k, v)
		}
		name := k[strings.LastIndexByte(k, '.')+1:]
		if !strings.Contains(section, "`"+name+"`") {
			t.Errorf("the tables after %s do not describe member `%s`", marker, name)
		}
	}
}

func TestProtocolDocAgentConfig(t *testing.T) {
	var cfg Config
	checkExample(t, "example: agent-config", &cfg)
	if cfg.Profile.ReportedFQDN() != "desktop-10B38-AC.example.com" || !cfg.Profile.PrivateAccessEnabled() {
		t.Errorf("example profile reports %q, Private Access %v", cfg.Profile.ReportedFQDN(), cfg.Profile.PrivateAccessEnabled())
	}
}

func TestProtocolDocAgentStatus(t *testing.T) {
	var st Status
	checkExample(t, "example: agent-status", &st)
	for _, r := range st.Connections {
		if r.Role != RoleSource && r.Role != RoleDestination {
			t.Errorf("example record role %q", r.Role)
		}
		if r.Code != "" && !r.Code.Known() {
			t.Errorf("example record code %q is not a code", r.Code)
		}
	}
}

// TestProtocolDocSOCKSReplies: section 9's table is socksReply, code for
// code.
func TestProtocolDocSOCKSReplies(t *testing.T) {
	table := afterMarker(t, protocolDoc(t), "table: socks-replies")
	row := regexp.MustCompile("(?m)^\\| `0x([0-9a-f]{2})` [^|]*\\| (.*) \\|$")
	token := regexp.MustCompile("`([A-Z0-9_]+)`")
	doc := map[code.Code]byte{}
	var other byte
	for _, m := range row.FindAllStringSubmatch(table, -1) {
		n, _ := strconv.ParseUint(m[1], 16, 8)
		reply := byte(n)
		if strings.HasPrefix(m[2], "every other code") {
			other = reply
			continue
		}
		for _, c := range token.FindAllStringSubmatch(m[2], -1) {
			if !code.Code(c[1]).Known() {
				t.Errorf("table lists %s, which is not a code", c[1])
			}
			doc[code.Code(c[1])] = reply
		}
	}
	if len(doc) == 0 || other == 0 {
		t.Fatalf("no table rows found after the marker:\n%s", table)
	}
	for _, i := range code.All() {
		want, ok := doc[i.Code]
		if !ok {
			want = other
		}
		if got := socksReply(i.Code); got != want {
			t.Errorf("%s: socksReply %#02x, PROTOCOL.md says %#02x", i.Code, got, want)
		}
	}
}
