package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestTestRefusesUnknownBackend(t *testing.T) {
	if got := run([]string{"test", "--backend", "vm", "--report", t.TempDir()}); got != exitBadInput {
		t.Fatalf("exit %d, want %d (bad input)", got, exitBadInput)
	}
}

func TestContainerBinaryRefusesDynamicBinary(t *testing.T) {
	// A shell script is not ELF; the check must say so rather than build.
	p := filepath.Join(t.TempDir(), "c2clab")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := run([]string{"test", "--backend", "container", "--container-binary", p, "--report", t.TempDir()}); got != exitBadInput {
		t.Fatalf("exit %d, want %d (bad input)", got, exitBadInput)
	}
}

func TestModuleRootFindsThisTree(t *testing.T) {
	root, ok := moduleRoot()
	if !ok {
		t.Fatal("moduleRoot: not found from cmd/c2clab")
	}
	if _, err := os.Stat(filepath.Join(root, "cmd", "c2clab", "main.go")); err != nil {
		t.Fatalf("moduleRoot = %q: %v", root, err)
	}
}
