package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder until the node command lands; it refuses to run rather than pretend.
func newNodeCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "node",
		Short:  "not built yet",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return badInput(errors.New("node: not built yet"))
		},
	}
}
