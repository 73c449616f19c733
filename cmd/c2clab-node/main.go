// Command c2clab-node runs one lab node (broker, agent, service, link
// emulator: every role of `c2clab node`) and nothing else. The test suites
// start their local and netns labs' nodes from it: c2clab itself links the
// Kubernetes client and testcontainers-go, whose package initializers (the
// latter lists every process of the machine) cost a node about 45 ms of
// CPU at each start against about 6 ms here, and a go test ./... starts
// thousands of nodes. A leading "node" is accepted, so that it stands in
// for c2clab wherever a lab runs "c2clab node ROLE ...": the container
// suites put it, built static, in their FROM scratch image as /c2clab.
//
//	c2clab-node [node] ROLE --config FILE --ready-file FILE
package main

import (
	"os"

	"github.com/c2clab/c2clab/sim/node"
)

func main() {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "node" {
		args = args[1:]
	}
	os.Exit(node.Main(args))
}
