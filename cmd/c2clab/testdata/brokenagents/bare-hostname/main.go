// Command bare-hostname is the reference agent broken on purpose: it
// reports its hostname without the primary DNS suffix. The certification self-test
// (TestCertifyFailsExactlyWhatABrokenAgentBreaks) proves that c2clab certify
// fails it on the requirements this breaks and no others.
package main

import (
	"os"

	"github.com/c2clab/c2clab/sim/agent"
	"github.com/c2clab/c2clab/sim/node"
)

func main() {
	os.Exit(node.MainAgent(os.Args[1:], func(c *agent.Config) { c.Faults = agent.Faults{BareHostname: true} }))
}
