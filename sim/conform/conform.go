// Package conform is the one model of what a conforming Client Connector
// does: what it reports when it registers, what its source side does with a
// connection before anything reaches the broker (DEV-5, SEG-3, SEG-4), and
// what its destination side does with a connection the broker hands it
// (EP-1). The reference agent (sim/agent), the broker (sim/broker) and the
// "what if" answers (sim/check) all call it, so the lab and `c2clab explain`
// cannot tell an admin two different things; every decision it needs about
// segments and ports is sim/policy's, never made here a second time.
package conform
