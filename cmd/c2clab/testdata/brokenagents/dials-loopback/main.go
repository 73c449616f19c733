// Command dials-loopback is the reference agent broken on purpose: it
// delivers connections to 127.0.0.1 instead of the device's interface IP. The certification self-test
// (TestCertifyFailsExactlyWhatABrokenAgentBreaks) proves that c2clab certify
// fails it on the requirements this breaks and no others.
package main

import (
	"os"

	"github.com/c2clab/c2clab/sim/agent"
	"github.com/c2clab/c2clab/sim/node"
)

func main() {
	os.Exit(node.MainAgent(os.Args[1:], func(c *agent.Config) { c.Faults = agent.Faults{DialLoopback: true} }))
}
