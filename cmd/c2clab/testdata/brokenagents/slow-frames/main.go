// Command slow-frames is the reference agent broken on purpose: it sleeps
// 5 ms before it sends each data frame, so it relays every byte intact
// but slowly. The certification self-test
// (TestCertifyFailsExactlyWhatABrokenAgentBreaks) proves that c2clab
// certify fails it on NET-3, whose bar is the reference agent measured on
// the same path in the same run, and on nothing else.
package main

import (
	"os"
	"time"

	"github.com/c2clab/c2clab/sim/agent"
	"github.com/c2clab/c2clab/sim/node"
	"github.com/c2clab/c2clab/sim/seal"
)

func main() {
	os.Exit(node.MainAgent(os.Args[1:], func(c *agent.Config) {
		c.Faults = agent.Faults{Seal: seal.Dialect{FrameDelay: 5 * time.Millisecond}}
	}))
}
