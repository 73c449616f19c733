package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder until the lab command lands; it refuses to run rather than pretend.
func newLabCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "lab",
		Short:  "not built yet",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return badInput(errors.New("lab: not built yet"))
		},
	}
}
