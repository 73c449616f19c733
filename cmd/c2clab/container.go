package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/c2clab/c2clab/sim/image"
)

// containerBinary picks the static binary the container image holds: the
// one named by --container-binary, else this executable if it is static,
// else one built with CGO_ENABLED=0 from the source tree the command runs
// in (as `go run ./cmd/c2clab` does). cleanup removes what it built.
func containerBinary(cmd *cobra.Command, exe, flag string) (path string, cleanup func(), err error) {
	none := func() {}
	if flag != "" {
		if err := image.CheckStatic(flag); err != nil {
			return "", none, badInput(fmt.Errorf("--container-binary: %w", err))
		}
		return flag, none, nil
	}
	err = image.CheckStatic(exe)
	if err == nil {
		return exe, none, nil
	}
	if !errors.Is(err, image.ErrNotStatic) {
		return "", none, fmt.Errorf("container binary: %w", err)
	}
	root, ok := image.SourceTree()
	if !ok {
		return "", none, badInput(fmt.Errorf("the container backend needs a static c2clab: %w; and no c2clab source tree here to build one from: pass --container-binary", err))
	}
	dir, err := os.MkdirTemp("", "c2clab-bin-")
	if err != nil {
		return "", none, fmt.Errorf("container binary: %w", err)
	}
	cleanup = func() { os.RemoveAll(dir) }
	fmt.Fprintf(cmd.OutOrStdout(), "building a static c2clab (CGO_ENABLED=0) from %s for the container image\n", root)
	bin := filepath.Join(dir, "c2clab")
	if err := image.BuildBinary(cmd.Context(), root, bin); err != nil {
		cleanup()
		return "", none, fmt.Errorf("container binary: %w", err)
	}
	return bin, cleanup, nil
}
