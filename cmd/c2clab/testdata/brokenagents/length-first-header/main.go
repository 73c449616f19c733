// Command length-first-header is the reference agent broken on purpose, the same way on
// both ends of a connection: its frame header puts the 24-bit length before the flags byte. Two copies of it
// talk to each other without a flaw; paired with the reference agent it
// fails. The certification self-test
// (TestCertifyFailsExactlyWhatABrokenAgentBreaks) proves that c2clab
// certify does not certify it (CERT-2) and fails only the pairings with
// the reference agent.
package main

import (
	"os"

	"github.com/c2clab/c2clab/sim/agent"
	"github.com/c2clab/c2clab/sim/node"
	"github.com/c2clab/c2clab/sim/seal"
)

func main() {
	os.Exit(node.MainAgent(os.Args[1:], func(c *agent.Config) { c.Faults = agent.Faults{Seal: seal.Dialect{LengthFirst: true}} }))
}
