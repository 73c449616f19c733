package msra

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
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
