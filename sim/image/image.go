// Package image builds the lab's container image: FROM scratch, holding
// only the static c2clab binary at /c2clab. Nothing is pulled (no registry
// is reachable), so the image is built locally from the binary each run and
// labelled with the run ID, so a sweep finds it after a crash.
package image

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Binary is where the c2clab binary lives inside the image.
const Binary = "/c2clab"

// RunLabel is the label key that carries the run ID on the image and on
// every container and network of the run.
const RunLabel = "c2clab.run"

// ErrNotStatic means the binary needs a dynamic loader, which a FROM
// scratch image does not have.
var ErrNotStatic = errors.New("binary is not statically linked")

// dockerfile copies the binary into an empty image.
const dockerfile = "FROM scratch\nCOPY c2clab " + Binary + "\nENTRYPOINT [\"" + Binary + "\"]\n"

// Build builds image tag FROM scratch with binary as /c2clab, labelled
// c2clab.run=runID. The binary must be static (CGO_ENABLED=0).
func Build(ctx context.Context, binary, tag, runID string) error {
	if err := CheckStatic(binary); err != nil {
		return fmt.Errorf("image: build %q: %w", tag, err)
	}
	dir, err := os.MkdirTemp("", "c2clab-image-")
	if err != nil {
		return fmt.Errorf("image: build %q: %w", tag, err)
	}
	defer os.RemoveAll(dir)
	if err := copyFile(binary, filepath.Join(dir, "c2clab")); err != nil {
		return fmt.Errorf("image: build %q: %w", tag, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o600); err != nil {
		return fmt.Errorf("image: build %q: %w", tag, err)
	}
	// The classic builder: BuildKit may be absent and wants a frontend
	// image for some features; FROM scratch needs neither.
	_, err = Docker(ctx, "build", "-q", "--label", RunLabel+"="+runID, "-t", tag, dir)
	if err != nil {
		return fmt.Errorf("image: build %q: %w", tag, err)
	}
	return nil
}

// CheckStatic returns ErrNotStatic when path is an ELF binary with a
// program interpreter (a dynamic loader).
func CheckStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%q: %w", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%q: %w (build it with CGO_ENABLED=0)", path, ErrNotStatic)
		}
	}
	return nil
}

// BuildBinary builds a static c2clab binary from the module at moduleDir
// into out.
func BuildBinary(ctx context.Context, moduleDir, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/c2clab")
	cmd.Dir = moduleDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("image: build binary: %w\n%s", err, b)
	}
	return nil
}

// Remove removes every image labelled with runID.
func Remove(ctx context.Context, runID string) error {
	out, err := Docker(ctx, "images", "-q", "--filter", "label="+RunLabel+"="+runID)
	if err != nil {
		return fmt.Errorf("image: remove %s: %w", runID, err)
	}
	ids := strings.Fields(out)
	if len(ids) == 0 {
		return nil
	}
	if _, err := Docker(ctx, append([]string{"rmi", "-f"}, ids...)...); err != nil {
		return fmt.Errorf("image: remove %s: %w", runID, err)
	}
	return nil
}

// Docker runs the docker CLI and returns its trimmed stdout; a failure
// carries its stderr.
func Docker(ctx context.Context, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("docker %s: %w: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}

// SourceTree finds the c2clab module's source tree that contains the
// working directory, as when run by `go run` or `go test` in a clone.
func SourceTree() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if f := strings.Fields(line); len(f) == 2 && f[0] == "module" {
					return dir, strings.Trim(f[1], `"`) == modulePath
				}
			}
			return "", false
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// modulePath is this module's path, to recognise its source tree.
const modulePath = "github.com/c2clab/c2clab"
