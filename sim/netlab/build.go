package netlab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
)

// PluginsModule is the module the CNI plugin binaries are built from, at the
// version this binary was built with.
const PluginsModule = "github.com/containernetworking/plugins"

// Plugins are the CNI plugins BuildPlugins builds, by package path in
// PluginsModule.
var Plugins = []string{
	"plugins/main/bridge",
	"plugins/main/loopback",
	"plugins/main/ptp",
	"plugins/ipam/host-local",
	"plugins/meta/bandwidth",
}

const stampFile = ".c2clab-plugins"

// ErrNoModuleVersion means the running binary carries no version of
// PluginsModule (built without module information).
var ErrNoModuleVersion = errors.New("no version of " + PluginsModule + " in build info")

// PluginsVersion returns the version of PluginsModule this binary was built
// with, which is the version BuildPlugins builds. Test binaries carry no
// module list, so it then asks `go list -m` in the working directory (a
// package directory of the module under test).
func PluginsVersion() (string, error) {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path != PluginsModule {
				continue
			}
			if d.Replace != nil {
				return "", fmt.Errorf("plugins version: replaced by %q: %w", d.Replace.Path, ErrNoModuleVersion)
			}
			return d.Version, nil
		}
	}
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", PluginsModule).Output()
	if v := strings.TrimSpace(string(out)); err == nil && strings.HasPrefix(v, "v") {
		return v, nil
	}
	return "", fmt.Errorf("plugins version: %w", ErrNoModuleVersion)
}

// BuildPlugins builds Plugins into dir with `go install PKG@VERSION`
// (static, trimmed), so the binaries are exactly the pinned module with its
// own dependencies. It does nothing when dir already holds binaries built
// for the same module and Go versions (a stamp file says so). Concurrent
// callers may build twice but never leave a half-written binary: each binary
// is built elsewhere and renamed into dir.
func BuildPlugins(ctx context.Context, dir string) error {
	version, err := PluginsVersion()
	if err != nil {
		return fmt.Errorf("build plugins: %w", err)
	}
	stamp := stampText(version)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("build plugins: %w", err)
	}
	if err := checkOwned(dir); err != nil {
		return fmt.Errorf("build plugins: %w", err)
	}
	if pluginsCurrent(dir, stamp) {
		return nil
	}
	tmp, err := os.MkdirTemp(dir, ".build-")
	if err != nil {
		return fmt.Errorf("build plugins: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := goInstall(ctx, tmp, version); err != nil {
		return fmt.Errorf("build plugins %s@%s: %w", PluginsModule, version, err)
	}
	for _, p := range Plugins {
		name := filepath.Base(p)
		if err := os.Rename(filepath.Join(tmp, name), filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("build plugins: %w", err)
		}
	}
	if err := writeAtomic(filepath.Join(dir, stampFile), []byte(stamp)); err != nil {
		return fmt.Errorf("build plugins: %w", err)
	}
	return nil
}

func stampText(version string) string {
	return fmt.Sprintf("%s@%s %s %s\n", PluginsModule, version, runtime.Version(), strings.Join(Plugins, " "))
}

func pluginsCurrent(dir, stamp string) bool {
	b, err := os.ReadFile(filepath.Join(dir, stampFile))
	if err != nil || string(b) != stamp {
		return false
	}
	for _, p := range Plugins {
		path := filepath.Join(dir, filepath.Base(p))
		if fi, err := os.Lstat(path); err != nil || !fi.Mode().IsRegular() || checkOwned(path) != nil {
			return false
		}
	}
	return true
}

// goInstall runs `go install` for every plugin at version into gobin. It runs
// outside any module (in gobin) so the caller's go.mod plays no part.
func goInstall(ctx context.Context, gobin, version string) error {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("go toolchain: %w", err)
	}
	args := []string{"install", "-trimpath"}
	for _, p := range Plugins {
		args = append(args, PluginsModule+"/"+p+"@"+version)
	}
	cmd := exec.CommandContext(ctx, goTool, args...)
	cmd.Dir = gobin
	cmd.Env = append(os.Environ(), "GOBIN="+gobin, "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go install: %w: %s", err, bytes.TrimSpace(out.Bytes()))
	}
	return nil
}

func writeAtomic(path string, b []byte) error {
	tmp := path + ".tmp" + fmt.Sprint(os.Getpid())
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
