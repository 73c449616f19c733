package device

import (
	"strings"
	"testing"
)

// FuzzParseVersion: no panic; a parsed version prints as digits and dots,
// parses back to an equal version, and compares consistently with the DEV-1
// examples.
func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{"3.9.0.169", "3.10", "3.9.0.99", "1.4", "3.7", "", ".", "1..2", "007.1", "999999999", "1.2.3.4.5.6.7", "-1", "1.a"} {
		f.Add(s)
	}
	minWin := MustVersion("3.9.0.169")
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseVersion(s)
		if err != nil {
			if v != nil {
				t.Fatalf("ParseVersion(%q) returned %v with error %v", s, v, err)
			}
			return
		}
		if len(v) < 1 || len(v) > 6 {
			t.Fatalf("ParseVersion(%q) has %d parts", s, len(v))
		}
		str := v.String()
		if strings.Trim(str, "0123456789.") != "" {
			t.Fatalf("String() = %q", str)
		}
		w, err := ParseVersion(str)
		if err != nil || w.Compare(v) != 0 || v.Compare(w) != 0 {
			t.Fatalf("ParseVersion(%q).String() = %q reparses to %v, %v", s, str, w, err)
		}
		if c := v.Compare(minWin); c != -minWin.Compare(v) {
			t.Fatalf("Compare not antisymmetric for %q: %d vs %d", s, c, minWin.Compare(v))
		}
		// Trailing zero parts do not change the order.
		if len(v) < 6 {
			z := append(append(Version(nil), v...), 0)
			if z.Compare(v) != 0 {
				t.Fatalf("%v.0 != %v", v, v)
			}
		}
	})
}
