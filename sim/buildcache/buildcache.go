// Package buildcache builds a main package of a source tree once for every
// test binary of the machine that wants it: go test ./... runs several
// suite binaries, and each built the same agents and node program into a
// directory of its own (a link of 1 to 2 CPU-seconds each, 5 s on 2 busy
// cores). The binary goes to a directory named after the source tree, and
// go build, run there under a lock, relinks only when the tree's sources
// changed (it compares the existing file's build ID), so every caller
// after the first pays about a quarter of a second. A directory whose
// source tree is gone (a CI clone removed, a worktree pruned) is removed
// by the next Build of any tree: each holds some 250 MB.
package buildcache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// rootFile, in a tree's directory, holds the tree's absolute path, so a
// later Build can tell whether the tree still exists.
const rootFile = ".root"

// Dir is the cache directory of the source tree at root: the user's cache
// directory (XDG_CACHE_HOME, else ~/.cache), c2clab/bin/, then a hash of
// root's absolute path, so that two clones on one machine never share a
// binary. It stays after the tests, like the Go build cache.
func Dir(root string) (string, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return "", fmt.Errorf("buildcache: %w", err)
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	sum := sha256.Sum256([]byte(abs))
	return filepath.Join(base, "c2clab", "bin", hex.EncodeToString(sum[:6])), nil
}

// Build builds the main package pkg ("./cmd/c2clab-agent") of the module at
// root into the cache as name, with env added to the go command's
// environment (e.g. CGO_ENABLED=0), and returns the binary's path. A
// binary a caller runs keeps its file when another caller relinks it: go
// build moves the new one over the name, or renames a busy file away
// before it writes. Two builds
// of one name with different env would fight over one file: give each its
// own name.
func Build(ctx context.Context, root, pkg, name string, env ...string) (string, error) {
	if strings.ContainsAny(name, `/\`) || name == "" || name[0] == '.' {
		return "", fmt.Errorf("buildcache: name %q: want a plain file name", name)
	}
	dir, err := Dir(root)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("buildcache: %w", err)
	}
	if err := markRoot(dir, root); err != nil {
		return "", err
	}
	pruneOnce.Do(func() { prune(filepath.Dir(dir)) })
	unlock, err := lock(filepath.Join(dir, "."+name+".lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	out := filepath.Join(dir, name)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("buildcache: go build %s: %w\n%s", pkg, err, b)
	}
	return out, nil
}

// markRoot writes root's absolute path into dir's rootFile.
func markRoot(dir, root string) error {
	abs, err := filepath.Abs(root)
	if err != nil {
		return fmt.Errorf("buildcache: %w", err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, rootFile)); err == nil && string(b) == abs {
		return nil
	}
	if err := os.WriteFile(filepath.Join(dir, rootFile), []byte(abs), 0o644); err != nil {
		return fmt.Errorf("buildcache: %w", err)
	}
	return nil
}

var pruneOnce sync.Once

// prune removes the directories under bin whose source tree no longer
// exists. One without a rootFile (made before there was one) is left: its
// tree cannot be told. Failures are ignored: pruning only saves space,
// and a directory another process is removing at the same time is fine.
func prune(bin string) {
	entries, err := os.ReadDir(bin)
	if err != nil {
		return
	}
	for _, e := range entries {
		dir := filepath.Join(bin, e.Name())
		b, err := os.ReadFile(filepath.Join(dir, rootFile))
		if err != nil {
			continue
		}
		if _, err := os.Stat(string(b)); errors.Is(err, fs.ErrNotExist) {
			os.RemoveAll(dir)
		}
	}
}
