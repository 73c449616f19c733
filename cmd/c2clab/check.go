package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder until the check command lands; it refuses to run rather than pretend.
func newCheckCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "check",
		Short:  "not built yet",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return badInput(errors.New("check: not built yet"))
		},
	}
}
