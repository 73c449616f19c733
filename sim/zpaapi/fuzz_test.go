package zpaapi

import "testing"

// FuzzPageParsers feeds any body to the two readers of API answers: they
// must return an error or a sane value, never panic or a negative count.
func FuzzPageParsers(f *testing.F) {
	for _, s := range []string{`{"totalPages":"2","list":[{"id":"1"}]}`, `{"totalPages":72,"list":[{"id":3}]}`, `{}`, `[]`, `{"list":[{}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if n, err := totalPages(data); err == nil && n < 0 {
			t.Fatalf("totalPages %d", n)
		}
		ids, err := listIDs([]Body{{Resource: "idp", Data: data}}, "idp")
		for _, id := range ids {
			if err == nil && (id == "" || id == "null") {
				t.Fatalf("empty id accepted from %q", data)
			}
		}
	})
}
