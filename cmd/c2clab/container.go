package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/c2clab/c2clab/sim/image"
)

// modulePath is this module's path, to recognise its source tree.
const modulePath = "github.com/c2clab/c2clab"

// containerBinary picks the static binary the container image holds: the
// one named by --container-binary, else this executable if it is static,
// else one built with CGO_ENABLED=0 from the source tree the command runs
// in (as `go run ./cmd/c2clab` does). cleanup removes what it built.
func containerBinary(cmd *cobra.Command, exe, flag string) (path string, cleanup func(), err error) {
	none := func() {}
	if flag != "" {
		if err := image.CheckStatic(flag); err != nil {
			return "", none, badInput(fmt.Errorf("test: --container-binary: %w", err))
		}
		return flag, none, nil
	}
	err = image.CheckStatic(exe)
	if err == nil {
		return exe, none, nil
	}
	if !errors.Is(err, image.ErrNotStatic) {
		return "", none, fmt.Errorf("test: container binary: %w", err)
	}
	root, ok := moduleRoot()
	if !ok {
		return "", none, badInput(fmt.Errorf("test: --backend container: %w; and no c2clab source tree here to build one from: pass --container-binary", err))
	}
	dir, err := os.MkdirTemp("", "c2clab-bin-")
	if err != nil {
		return "", none, fmt.Errorf("test: container binary: %w", err)
	}
	cleanup = func() { os.RemoveAll(dir) }
	fmt.Fprintf(cmd.OutOrStdout(), "building a static c2clab (CGO_ENABLED=0) from %s for the container image\n", root)
	bin := filepath.Join(dir, "c2clab")
	if err := image.BuildBinary(cmd.Context(), root, bin); err != nil {
		cleanup()
		return "", none, fmt.Errorf("test: container binary: %w", err)
	}
	return bin, cleanup, nil
}

// moduleRoot finds the c2clab source tree containing the working directory.
func moduleRoot() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil {
			for _, line := range strings.Split(string(data), "\n") {
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
