package domain

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	long63 := strings.Repeat("a", 63)
	tests := []struct {
		name, in, want string
		wild           bool
		wantErr        string // substring of the error; "" for success
	}{
		{name: "fqdn", in: "desktop-10B38-AC.example.com", want: "desktop-10b38-ac.example.com"},
		{name: "wildcard", in: "*.example.com", want: "*.example.com", wild: true},
		{name: "trailing dot", in: "testPC.Example.COM.", want: "testpc.example.com"},
		{name: "underscore", in: "_ldap._tcp.example.com", want: "_ldap._tcp.example.com"},
		{name: "single label", in: "testpc", want: "testpc"},
		{name: "63 char label", in: long63 + ".com", want: long63 + ".com"},
		{name: "tld wildcard", in: "*.com", want: "*.com", wild: true},
		{name: "empty", in: "", wantErr: "empty"},
		{name: "only dot", in: ".", wantErr: "empty"},
		{name: "lone star", in: "*", wantErr: "lone '*'"},
		{name: "star dot", in: "*.", wantErr: "lone '*'"},
		{name: "SEG-7 star inside label is a pattern", in: "a*.example.com", want: "a*.example.com"},
		{name: "SEG-7 star label not first is a pattern", in: "a.*.example.com", want: "a.*.example.com"},
		{name: "SEG-7 question marks", in: "desktop-?????-AC.example.com", want: "desktop-?????-ac.example.com"},
		{name: "SEG-7 glob in the last label", in: "a.example.c?m", wantErr: "must be literal"},
		{name: "SEG-7 glob single label", in: "a*", wantErr: "literal last label"},
		{name: "SEG-7 glob with a bad character", in: "a*b!.example.com", wantErr: "has '!'"},
		{name: "empty label", in: "a..example.com", wantErr: "empty label"},
		{name: "leading dot", in: ".example.com", wantErr: "empty label"},
		{name: "space", in: "a b.example.com", wantErr: "has ' '"},
		{name: "64 char label", in: long63 + "a.com", wantErr: "64 characters"},
		{name: "too long", in: strings.Repeat("abcdefghi.", 26), wantErr: "259 characters"},
		{name: "url", in: "https://example.com", wantErr: "has ':'"},
		{name: "non-ASCII", in: "b\u00fcro.example.com", wantErr: "has '\u00fc'"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse(tc.in)
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("Parse(%q) = %q, want error containing %q", tc.in, p, tc.wantErr)
				}
				if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.wantErr) ||
					!strings.Contains(err.Error(), "want an FQDN such as") {
					t.Fatalf("Parse(%q) error = %v, want ErrInvalid containing %q and what is accepted", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			if p.String() != tc.want || p.Wildcard() != tc.wild {
				t.Fatalf("Parse(%q) = %q wildcard=%v, want %q wildcard=%v", tc.in, p, p.Wildcard(), tc.want, tc.wild)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		name, pattern, fqdn string
		want                bool
	}{
		{"exact", "testPC.example.com", "testpc.example.com", true},
		{"exact case and dot", "testpc.example.com", "TESTPC.EXAMPLE.COM.", true},
		{"exact other", "testpc.example.com", "other.example.com", false},
		{"wildcard one label", "*.example.com", "testPC.example.com", true},
		{"wildcard several labels", "*.hr.example.com", "a.b.hr.example.com", true},
		{"wildcard not apex", "*.example.com", "example.com", false},
		{"wildcard not suffix of label", "*.example.com", "badexample.com", false},
		{"wildcard not other domain", "*.example.com", "testPC.example.com.evil.test", false},
		{"invalid name", "*.example.com", "a..example.com", false},
		{"only ASCII case folds", "k.example.com", "\u212a.example.com", false},
		{"leading dot name", "*.example.com", ".example.com", false},
		{"empty name", "*.example.com", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := MustParse(tc.pattern).Match(tc.fqdn); got != tc.want {
				t.Fatalf("%q.Match(%q) = %v, want %v", tc.pattern, tc.fqdn, got, tc.want)
			}
		})
	}
}

// segIndex is the SEG-3 example tenant: app servers on their own FQDNs,
// workstations on wildcards of several depths.
func segIndex(t testing.TB) *Index[string] {
	t.Helper()
	var x Index[string]
	for _, d := range []string{
		"*.example.com", "*.hr.example.com", "*.db.hr.example.com",
		"payroll.hr.example.com", "app1.example.com",
	} {
		if err := x.Add(MustParse(d), d); err != nil {
			t.Fatal(err)
		}
	}
	return &x
}

func TestLookupMostSpecific(t *testing.T) {
	x := segIndex(t)
	tests := []struct {
		name, fqdn, want string // want "" means no match
	}{
		{"exact beats wildcard", "payroll.hr.example.com", "payroll.hr.example.com"},
		{"exact beats wildcard case", "APP1.Example.Com.", "app1.example.com"},
		{"longer wildcard beats shorter", "pg1.db.hr.example.com", "*.db.hr.example.com"},
		{"middle wildcard", "laptop7.hr.example.com", "*.hr.example.com"},
		{"across several labels", "a.b.hr.example.com", "*.hr.example.com"},
		{"deep under longest", "x.y.z.db.hr.example.com", "*.db.hr.example.com"},
		{"apex of inner wildcard falls to outer", "hr.example.com", "*.example.com"},
		{"apex of inner wildcard db", "db.hr.example.com", "*.hr.example.com"},
		{"shortest wildcard", "testPC.example.com", "*.example.com"},
		{"apex not matched", "example.com", ""},
		{"other domain", "testPC.example.com.evil.test", ""},
		{"invalid name", "a..hr.example.com", ""},
		{"empty", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, p, ok := x.Lookup(tc.fqdn)
			if tc.want == "" {
				if ok {
					t.Fatalf("Lookup(%q) = %q (%q), want no match", tc.fqdn, v, p)
				}
				return
			}
			if !ok || v != tc.want || p.String() != tc.want {
				t.Fatalf("Lookup(%q) = %q, %q, %v; want %q", tc.fqdn, v, p, ok, tc.want)
			}
		})
	}
}

// SEG-7: pattern domains match label by label and rank between exact
// names and wildcards.
func TestPatternDomains(t *testing.T) {
	var x Index[string]
	for _, d := range []string{"*.example.com", "desktop-?????-ac.example.com", "desktop-*.example.com",
		"desktop-10b38-ac.example.com", "*-ac.example.com", "ws?.*.example.com", "*.hr.example.com"} {
		if err := x.Add(MustParse(d), d); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct{ name, fqdn, want string }{
		{"exact beats every pattern", "desktop-10B38-AC.example.com", "desktop-10b38-ac.example.com"},
		{"? is exactly one character: more literals wins", "desktop-ABCDE-AC.example.com", "desktop-?????-ac.example.com"},
		{"too many characters for ?????", "desktop-ABCDEF-AC.example.com", "desktop-*.example.com"},
		{"* within a label", "kiosk-AC.example.com", "*-ac.example.com"},
		{"a pattern never crosses a dot", "desktop-a.b.example.com", "*.example.com"},
		{"a pattern beats a longer wildcard", "ws1.hr.example.com", "ws?.*.example.com"},
		{"wildcard when no pattern matches", "laptop.hr.example.com", "*.hr.example.com"},
		{"? needs one character", "ws.hr.example.com", "*.hr.example.com"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, p, ok := x.Lookup(tc.fqdn)
			if !ok || v != tc.want || p.String() != tc.want {
				t.Fatalf("Lookup(%q) = %q, %q, %v; want %q", tc.fqdn, v, p, ok, tc.want)
			}
			all := x.All(nil, tc.fqdn)
			if len(all) == 0 || all[0].Value != tc.want {
				t.Fatalf("All(%q)[0] = %+v, want %q first", tc.fqdn, all, tc.want)
			}
			for i := 1; i < len(all); i++ {
				if !MoreSpecific(all[i-1].Pattern, all[i].Pattern) {
					t.Fatalf("All(%q) out of order at %d: %+v", tc.fqdn, i, all)
				}
			}
		})
	}
	if all := x.All(nil, "desktop-ABCDE-AC.example.com"); len(all) != 4 {
		t.Fatalf("All = %+v, want the two desktop patterns, *-ac and *.example.com", all)
	}
	if err := x.Add(MustParse("DESKTOP-*.example.com"), "again"); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("duplicate pattern: %v", err)
	}
}

func TestIndexDuplicate(t *testing.T) {
	var x Index[int]
	if err := x.Add(MustParse("*.example.com"), 1); err != nil {
		t.Fatal(err)
	}
	err := x.Add(MustParse("*.EXAMPLE.com."), 2)
	if !errors.Is(err, ErrDuplicate) {
		t.Fatalf("second Add = %v, want ErrDuplicate", err)
	}
	if v, ok := x.Get(MustParse("*.example.com")); !ok || v != 1 {
		t.Fatalf("Get = %d, %v; want the first value 1", v, ok)
	}
	// The exact name with the same suffix is a different pattern.
	if err := x.Add(MustParse("example.com"), 3); err != nil {
		t.Fatalf("exact apex beside its wildcard: %v", err)
	}
	if x.Len() != 2 {
		t.Fatalf("Len = %d, want 2", x.Len())
	}
	if err := x.Add(Pattern{}, 4); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Add(zero) = %v, want ErrInvalid", err)
	}
}

func TestLookupDoesNotAllocate(t *testing.T) {
	x := segIndex(t)
	allocs := testing.AllocsPerRun(100, func() {
		x.Lookup("a.b.c.d.hr.example.com")
		x.Lookup("nothing.test")
	})
	if allocs != 0 {
		t.Fatalf("Lookup allocates %.1f times per run, want 0", allocs)
	}
}

func TestMoreSpecific(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"app1.example.com", "*.example.com", true},
		{"*.example.com", "app1.example.com", false},
		{"*.db.hr.example.com", "*.hr.example.com", true},
		{"*.hr.example.com", "*.db.hr.example.com", false},
		{"*.example.com", "*.example.com", false},
	}
	for _, tc := range tests {
		if got := MoreSpecific(MustParse(tc.a), MustParse(tc.b)); got != tc.want {
			t.Errorf("MoreSpecific(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

func BenchmarkLookup(b *testing.B) {
	x := segIndex(b)
	for b.Loop() {
		x.Lookup("x.y.z.db.hr.example.com")
	}
}
