package buildcache

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// tree writes a module whose program prints msg.
func tree(t *testing.T, dir, msg string) {
	t.Helper()
	files := map[string]string{
		"go.mod":        "module example.com/hello\n\ngo 1.22\n",
		"hello/main.go": "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Print(" + `"` + msg + `"` + ") }\n",
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func runs(t *testing.T, bin, want string) {
	t.Helper()
	out, err := exec.Command(bin).Output()
	if err != nil || string(out) != want {
		t.Fatalf("%s printed %q (%v), want %q", bin, out, err, want)
	}
}

// Callers at once get one binary; an unchanged tree is not relinked; a
// changed one is; another tree has a directory of its own.
// (Two links of a tiny program: a few seconds on 2 busy cores.)
func TestBuildOnceAndAgainOnlyWhenTheSourcesChange(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("needs the go command")
	}
	gocache, err := exec.Command("go", "env", "GOCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOCACHE", string(bytes.TrimSpace(gocache))) // the warm one, whatever the cache home
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	root := t.TempDir()
	tree(t, root, "one")
	var wg sync.WaitGroup
	paths := make([]string, 3)
	for i := range paths {
		wg.Go(func() {
			p, err := Build(t.Context(), root, "./hello", "hello")
			if err != nil {
				t.Error(err)
			}
			paths[i] = p
		})
	}
	wg.Wait()
	if paths[0] == "" || paths[0] != paths[1] || paths[1] != paths[2] {
		t.Fatalf("paths %q, want one", paths)
	}
	runs(t, paths[0], "one")
	before, _ := os.Stat(paths[0])
	if _, err := Build(t.Context(), root, "./hello", "hello"); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(paths[0])
	if !os.SameFile(before, after) {
		t.Error("an unchanged tree's binary was linked again")
	}
	tree(t, root, "two")
	p, err := Build(t.Context(), root, "./hello", "hello")
	if err != nil {
		t.Fatal(err)
	}
	runs(t, p, "two")
	da, _ := Dir(root)
	db, _ := Dir(t.TempDir())
	if da == db {
		t.Errorf("two trees share the directory %s", da)
	}
	if _, err := Build(t.Context(), root, "./hello", "../x"); err == nil || !bytes.Contains([]byte(err.Error()), []byte("plain file name")) {
		t.Errorf("name ../x: err %v, want a refusal", err)
	}
}

// A tree's directory goes when its tree is gone, at the next Build of any
// tree; one whose tree exists, and one that does not say its tree, stay.
func TestBuildPrunesTheDirectoriesOfGoneTrees(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("needs the go command")
	}
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	gone, kept := t.TempDir(), t.TempDir()
	dGone, _ := Dir(gone)
	dKept, _ := Dir(kept)
	for _, d := range []string{dGone, dKept} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := markRoot(dGone, gone); err != nil {
		t.Fatal(err)
	}
	if err := markRoot(dKept, kept); err != nil {
		t.Fatal(err)
	}
	unknown := filepath.Join(filepath.Dir(dGone), "0123456789ab")
	if err := os.MkdirAll(unknown, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(gone); err != nil {
		t.Fatal(err)
	}
	prune(filepath.Dir(dGone))
	if _, err := os.Stat(dGone); !os.IsNotExist(err) {
		t.Errorf("%s of a removed tree: %v, want it removed", dGone, err)
	}
	for _, d := range []string{dKept, unknown} {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("%s: %v, want it kept", d, err)
		}
	}
}
