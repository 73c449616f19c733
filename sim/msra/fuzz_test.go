package msra

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// FuzzRewrite feeds Parse and Rewrite arbitrary files, seeded with every
// fixture: neither may panic, every error must be a FieldError, and every
// accepted file must rewrite into a valid invitation with the properties
// of RA-1 (checked by checkRewritten).
//
//	go test -fuzz FuzzRewrite -fuzztime 60s ./sim/msra
func FuzzRewrite(f *testing.F) {
	for _, pat := range []string{"*.msrcincident", "broken/*.msrcincident"} {
		files, _ := filepath.Glob(fixtures + pat)
		for _, name := range files {
			data, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		inv, err := Parse(data)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not match ErrInvalid", err)
			}
			return
		}
		out, err := Rewrite(data, testHost)
		if err != nil {
			t.Fatalf("Parse accepted the file but Rewrite failed: %v", err)
		}
		checkRewritten(t, data, out, testHost)
		if _, err := Parse(inv.Marshal()); err != nil && !bytes.Contains(data, []byte("&")) {
			t.Fatalf("Marshal's output does not parse: %v", err)
		}
	})
}

// FuzzParseTicket: every error is a *FieldError naming an RCTICKET field,
// and an accepted ticket prints as Connection String 1 that parses back to
// the same ticket, with every address a host and a port 1-65535.
func FuzzParseTicket(f *testing.F) {
	for _, s := range []string{
		"65538,1,10.0.0.1:3389,*,QUJD,*,*,REVG",
		"65538,1,desktop@safemarch.com:54606;100.64.0.2:54607,*,QUJD,*,*,REVG",
		"65538,1,[fe80::1%12]:3389;fe80::1%eth0:3390,*,QUJD,*,*,REVG",
		"65538,1,10.0.0.1:03389,*,QUJD,*,*,REVG",
		"65538,1,10.0.0.1:+1,*,QUJD,*,*,REVG",
		"65538,1,[10.0.0.1]:1,*,QUJD,*,*,REVG",
		"65538,1,:1,*,QUJD,*,*,REVG",
		"65537,1,a:1,*,QUJD,*,*,REVG",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tk, err := ParseTicket(s)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || !errors.Is(err, ErrInvalid) || !strings.HasPrefix(fe.Field, "RCTICKET") {
				t.Fatalf("ParseTicket(%q): error %v is not a *FieldError on RCTICKET", s, err)
			}
			return
		}
		for _, a := range tk.Addrs {
			if a.Host == "" || a.Port == 0 || strings.ContainsAny(a.Host, ",;") {
				t.Fatalf("ParseTicket(%q) accepted address %+v", s, a)
			}
		}
		back, err := ParseTicket(tk.String())
		if err != nil || !reflect.DeepEqual(back, tk) {
			t.Fatalf("ParseTicket(%q) = %+v prints as %q, which parses to %+v, %v", s, tk, tk.String(), back, err)
		}
	})
}
