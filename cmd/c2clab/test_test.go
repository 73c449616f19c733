package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/c2clab/c2clab/sim/image"
	"github.com/c2clab/c2clab/sim/lab"
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

func TestSourceTreeFindsThisTree(t *testing.T) {
	root, ok := image.SourceTree()
	if !ok {
		t.Fatal("SourceTree: not found from cmd/c2clab")
	}
	if _, err := os.Stat(filepath.Join(root, "cmd", "c2clab", "main.go")); err != nil {
		t.Fatalf("SourceTree = %q: %v", root, err)
	}
}

func TestAgentCommandRunsOnEveryBackendThatCanStartIt(t *testing.T) {
	all, err := testBackends(backendAll)
	if err != nil {
		t.Fatal(err)
	}
	got := agentCommandBackends(all)
	if want := []string{lab.BackendLocal, lab.BackendNetns}; !slices.Equal(got, want) {
		t.Errorf("--agent-cmd with --backend all runs on %v; want %v (an agent command cannot start in a container)", got, want)
	}
}
