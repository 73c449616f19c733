package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// newReadyCmd is the kubernetes backend's readiness probe: its image holds
// nothing but this binary, so the probe is this command, run by the
// kubelet inside the node's container (sim/kube).
func newReadyCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "ready READY_FILE...",
		Short:  "Exit 0 when every node's ready file is written (a readiness probe)",
		Hidden: true,
		Args:   cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, path := range args {
				data, err := os.ReadFile(path)
				if err != nil {
					return failed(fmt.Errorf("not ready: %w", err))
				}
				var r struct{ PID int }
				if err := json.Unmarshal(data, &r); err != nil || r.PID == 0 {
					return failed(fmt.Errorf("not ready: %s holds no ready record (docs/PROTOCOL.md section 12)", path))
				}
			}
			return nil
		},
	}
}
