package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/c2clab/c2clab/sim/image"
)

// defaultImageRef is the image the kubernetes backend runs unless told
// otherwise, and the tag image save writes.
func defaultImageRef() string { return "c2clab/c2clab:" + c2clabVersion() }

func newImageCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "image",
		Short: "The FROM scratch image of the static c2clab binary",
	}
	cmd.AddCommand(newImageSaveCmd())
	return cmd
}

func newImageSaveCmd() *cobra.Command {
	var out, tag, binary string
	cmd := &cobra.Command{
		Use:   "save -o FILE [--tag REPO:TAG] [--container-binary FILE]",
		Short: "Write the c2clab image as a tar for clusters without a registry",
		Long: `Write the image the container and kubernetes backends run (the static
c2clab binary as /c2clab, its entrypoint, nothing else) as a docker save
archive, without a Docker engine. Load it where no registry is reachable:

  kind load image-archive FILE            # kind
  ctr -n k8s.io images import FILE        # a containerd node
  docker load -i FILE                     # Docker

then run labs with --backend kubernetes --image TAG (the default tag is the
one this command writes).`,
		Example: `  c2clab image save -o c2clab.tar
  kind load image-archive c2clab.tar
  c2clab lab up --backend kubernetes --ignore-links topologies/two-sites-wan.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return badInput(errors.New("image save: give -o FILE"))
			}
			exe, err := os.Executable()
			if err != nil {
				return err
			}
			bin, cleanup, err := containerBinary(cmd, exe, binary)
			if err != nil {
				return err
			}
			defer cleanup()
			f, err := os.Create(out)
			if err != nil {
				return badInput(fmt.Errorf("image save: -o: %w", err))
			}
			if err := image.Archive(f, bin, tag); err != nil {
				f.Close()
				os.Remove(out)
				return failed(err)
			}
			if err := f.Close(); err != nil {
				return failed(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (%s)\n", out, tag)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "the tar file to write")
	cmd.Flags().StringVar(&tag, "tag", defaultImageRef(), "the image's REPO:TAG")
	cmd.Flags().StringVar(&binary, "container-binary", "", "the static c2clab binary to put in it; default this one, or one built from the source tree")
	return cmd
}
