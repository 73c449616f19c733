package pod

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestAgentRootFromHold reads the agent container as the machine process
// does, from a hold's ready file and a /proc laid out as the kernel's: the
// root and environment through the hold's PID, the working directory from
// its ready file; a bare entrypoint is found on the image's PATH inside
// that root, an absolute one is taken as it is, and a missing one is an
// error that names the PATH searched. A ready file without a PID is
// refused, and so is a hold whose /proc entry is not visible (a Pod
// without a shared PID namespace).
func TestAgentRootFromHold(t *testing.T) {
	proc := t.TempDir()
	dir := filepath.Join(proc, "42")
	bin := filepath.Join(dir, "root", "opt", "acme", "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "agent"), []byte("#!/bin/true\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "environ"), []byte("PATH=/usr/bin:/opt/acme/bin\x00ACME=1\x00"), 0o400); err != nil {
		t.Fatal(err)
	}
	a, err := parseHold([]byte(`{"pid": 42, "addrs": {"cwd": "/work"}}`), proc)
	if err != nil {
		t.Fatal(err)
	}
	if a.root != filepath.Join(dir, "root") || a.cwd != "/work" || !slices.Equal(a.env, []string{"PATH=/usr/bin:/opt/acme/bin", "ACME=1"}) {
		t.Errorf("agent root %+v: want root %s, cwd /work, the hold's two variables", a, filepath.Join(dir, "root"))
	}
	for name, want := range map[string]string{"agent": "/opt/acme/bin/agent", "/any/path": "/any/path"} {
		if got, err := a.program(name); err != nil || got != want {
			t.Errorf("program(%q) = %q, %v; want %q", name, got, err, want)
		}
	}
	if _, err := a.program("missing"); err == nil {
		t.Error("program(missing): no error")
	}
	if b, err := parseHold([]byte(`{"pid": 42}`), proc); err != nil || b.cwd != "/" {
		t.Errorf("no cwd in the ready file: %+v %v, want /", b, err)
	}
	for _, bad := range []string{`{"addrs": {}}`, `not json`, `{"pid": 7}`} {
		if _, err := parseHold([]byte(bad), proc); err == nil {
			t.Errorf("ready file %s: no error", bad)
		}
	}
}

// TestInstallCopiesItself: the install role puts an executable copy of
// the running program at DIR/c2clab, and refuses a relative DIR.
func TestInstallCopiesItself(t *testing.T) {
	dir := t.TempDir()
	if err := Install(t.Context(), InstallConfig{Dir: dir}, nil); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "c2clab"))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("copy: %d bytes, %v; want the %d bytes of %s", len(got), err, len(want), exe)
	}
	if st, _ := os.Stat(filepath.Join(dir, "c2clab")); st.Mode()&0o111 == 0 {
		t.Errorf("copy mode %v: not executable", st.Mode())
	}
	if err := Install(t.Context(), InstallConfig{Dir: "rel"}, nil); err == nil {
		t.Error("relative dir: no error")
	}
}
