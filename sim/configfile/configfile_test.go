package configfile

import (
	"errors"
	"strings"
	"testing"
)

type seg struct {
	Name  string `yaml:"name"`
	Ports []int  `yaml:"ports"`
}

type conf struct {
	Title    string `yaml:"title"`
	Segments []seg  `yaml:"segments"`
}

func TestParseErrorsNameFileLineField(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"unknown field", "title: x\nsegments:\n  - name: a\n    bogus: 1\n", "t.yaml:4: segments[0].bogus: field bogus not found"},
		{"wrong type", "title: x\nsegments:\n  - name: a\n    ports: [1, two]\n", "t.yaml:4: segments[0].ports"},
		{"syntax", "title: [x\n", "t.yaml:"},
		{"empty", "", "t.yaml: file is empty"},
		{"unknown field with a flow value", "title: x\nsegments:\n  - name: a\n    bogus: [1, {a: 2}]\n", "t.yaml:4: segments[0].bogus: field bogus not found; want one of: name, ports"},
		{"unknown top-level field lists what is accepted", "titel: x\n", "t.yaml:1: titel: field titel not found; want one of: title, segments"},
		{"json unknown field", "{\"title\": \"x\",\n \"nope\": 1}\n", "t.yaml:2: nope: field nope not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c conf
			_, err := Parse("t.yaml", []byte(tt.in), &c)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("err %T is not a *configfile.Error", err)
			}
		})
	}
}

func TestErrorfPointsAtField(t *testing.T) {
	var c conf
	d, err := Parse("t.yaml", []byte("title: x\nsegments:\n  - name: a\n    ports: [1]\n  - name: b\n"), &c)
	if err != nil {
		t.Fatal(err)
	}
	got := d.Errorf("segments[1].name", "duplicate name %q", "b").Error()
	if want := `t.yaml:5: segments[1].name: duplicate name "b"`; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	// An absent field falls back to its nearest parent's line.
	got = d.Errorf("segments[1].ports", "missing").Error()
	if want := "t.yaml:5: segments[1].ports: missing"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if !d.Has("segments[0].ports") || d.Has("segments[1].ports") {
		t.Fatal("Has does not tell present fields from absent ones")
	}
}

type laxConf struct {
	Title  string          `yaml:"title"`
	Export Lax[[]seg]      `yaml:"export"`
	Inner  struct{ A int } `yaml:"inner"`
}

func TestLaxIgnoresUnknownFieldsOnlyInside(t *testing.T) {
	tests := []struct {
		name, in, wantErr string
		wantSegs          int
	}{
		{"unknown inside lax part is ignored", "title: x\nexport:\n  - name: a\n    creationTime: \"1\"\n    nested: {deep: [1, 2]}\n", "", 1},
		{"unknown outside lax part is an error", "title: x\nbogus: 1\nexport: []\n", "t.yaml:2: bogus: field bogus not found", 0},
		{"type error inside lax part names its line", "title: x\nexport:\n  - name: a\n    ports: [1, two]\n", "t.yaml:4: export[0].ports", 0},
		{"absent lax part", "title: x\n", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c laxConf
			_, err := Parse("t.yaml", []byte(tt.in), &c)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Export.Value) != tt.wantSegs || c.Export.Present != (tt.wantSegs > 0) {
				t.Fatalf("export = %+v, want %d segments", c.Export, tt.wantSegs)
			}
		})
	}
}
