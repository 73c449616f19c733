package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder until the explain command lands; it refuses to run rather than pretend.
func newExplainCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "explain",
		Short:  "not built yet",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return badInput(errors.New("explain: not built yet"))
		},
	}
}
