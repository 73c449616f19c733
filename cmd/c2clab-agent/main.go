// Command c2clab-agent is the reference agent as a program of its own, the
// way a vendor ships theirs: c2clab starts it as
//
//	c2clab-agent agent --config FILE --ready-file FILE
//
// (docs/PROTOCOL.md section 12), so `c2clab certify --agent-cmd
// ./c2clab-agent` certifies the reference implementation exactly as it
// would a vendor's.
package main

import (
	"fmt"
	"os"

	"github.com/c2clab/c2clab/sim/node"
)

func main() {
	if len(os.Args) < 2 || os.Args[1] != "agent" {
		fmt.Fprintln(os.Stderr, "usage: c2clab-agent agent --config FILE --ready-file FILE")
		os.Exit(2)
	}
	os.Exit(node.Main(os.Args[1:]))
}
