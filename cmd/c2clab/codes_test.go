package main

import (
	"bytes"
	"os"
	"testing"
)

// docs/CODES.md must be what `c2clab codes --markdown` prints, so the
// documented codes are the ones the lab reports.
func TestCodesDocIsCurrent(t *testing.T) {
	var want bytes.Buffer
	if err := writeCodesMarkdown(&want); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../docs/CODES.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatal("docs/CODES.md is stale: run go run ./cmd/c2clab codes --markdown > docs/CODES.md")
	}
}
