package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder until the test command lands; it refuses to run rather than pretend.
func newTestCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "test",
		Short:  "not built yet",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return badInput(errors.New("test: not built yet"))
		},
	}
}
