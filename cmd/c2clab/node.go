package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/c2clab/c2clab/sim/node"
)

// newNodeCmd runs one lab node. The lab starts nodes this way; a vendor's
// agent is started the same way by contract (docs/PROTOCOL.md), so the
// flags are plain and stable.
func newNodeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "node ROLE --config FILE --ready-file FILE",
		Short: "Run one lab node (" + strings.Join(node.Roles(), ", ") + "); the lab starts these itself",
		Long: `Run one lab node until SIGTERM or SIGINT.

ROLE is one of: ` + strings.Join(node.Roles(), ", ") + `.
--config is the role's JSON config, written by the lab into the run directory.
--ready-file is written atomically, as {"pid": N, "addrs": {"name": "ip:port"}},
once every listener is up; the lab waits for it. Logs go to stderr.

Exit codes: 0 stopped cleanly, 1 the node failed, 2 bad arguments.`,
		Hidden:             true,
		DisableFlagParsing: true, // node.Main parses, so test binaries share the exact flags
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 || slices.Contains(args, "-h") || slices.Contains(args, "--help") {
				return cmd.Help()
			}
			switch code := node.Main(args); code {
			case 0:
				return nil
			case 2:
				return badInput(fmt.Errorf("node: bad arguments"))
			default:
				return failed(fmt.Errorf("node: exited %d", code))
			}
		},
	}
}
