// Package buildcache builds a main package of a source tree once for every
// test binary of the machine that wants it: go test ./... runs several
// suite binaries, and each built the same agents and node program into a
// directory of its own (a link of 1 to 2 CPU-seconds each, 5 s on 2 busy
// cores). The binary goes to a directory named after the source tree, and
// go build, run there under a lock, relinks only when the tree's sources
// changed (it compares the existing file's build ID), so every caller
// after the first pays about a quarter of a second.
package buildcache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

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
