package device

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is a Client Connector version such as 3.9.0.169, compared
// numerically part by part (DEV-1): 3.10 > 3.9.0.169 > 3.9.0.99, and
// missing trailing parts count as zero (3.7 == 3.7.0).
type Version []uint32

// ParseVersion parses dot-separated decimal parts. It accepts 1 to 6 parts,
// each at most 9 digits; anything else is an error that says so.
func ParseVersion(s string) (Version, error) {
	if s == "" {
		return nil, fmt.Errorf("parse version: empty")
	}
	parts := strings.Split(s, ".")
	if len(parts) > 6 {
		return nil, fmt.Errorf("parse version %q: more than 6 parts", s)
	}
	v := make(Version, len(parts))
	for i, p := range parts {
		if p == "" || len(p) > 9 || strings.TrimLeft(p, "0123456789") != "" {
			return nil, fmt.Errorf("parse version %q: part %d is %q, want digits like 3.9.0.169", s, i+1, p)
		}
		n, _ := strconv.ParseUint(p, 10, 32)
		v[i] = uint32(n)
	}
	return v, nil
}

// MustVersion is ParseVersion for constants; it panics on error.
func MustVersion(s string) Version {
	v, err := ParseVersion(s)
	if err != nil {
		panic(err)
	}
	return v
}

// Compare returns -1, 0 or +1 as v is older than, equal to or newer than w.
func (v Version) Compare(w Version) int {
	for i := 0; i < len(v) || i < len(w); i++ {
		a, b := v.part(i), w.part(i)
		switch {
		case a < b:
			return -1
		case a > b:
			return 1
		}
	}
	return 0
}

func (v Version) part(i int) uint32 {
	if i < len(v) {
		return v[i]
	}
	return 0
}

func (v Version) String() string {
	s := make([]string, len(v))
	for i, p := range v {
		s[i] = strconv.FormatUint(uint64(p), 10)
	}
	return strings.Join(s, ".")
}
