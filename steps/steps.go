package steps

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/cucumber/godog"
)

// Register adds every step and the per-scenario hooks to sc. All steps are
// registered here, in one place, so the vocabulary reads as one list.
// Everything the steps print goes to out.
func Register(sc *godog.ScenarioContext, cfg Config, out io.Writer) {
	sc.Before(func(ctx context.Context, _ *godog.Scenario) (context.Context, error) {
		return context.WithValue(ctx, worldKey{}, newWorld(cfg, out)), nil
	})
	// godog passes the After-scenario hook a nil error when an earlier step
	// skipped, so skips are caught here, per step, with their reason.
	sc.StepContext().After(func(ctx context.Context, _ *godog.Step, _ godog.StepResultStatus, err error) (context.Context, error) {
		if w := getWorld(ctx); errors.Is(err, godog.ErrSkip) && w.scenario.skipReason == "" {
			w.scenario.skipReason = skipReason(err)
		}
		return attachEvidence(ctx), nil
	})
	sc.After(func(ctx context.Context, s *godog.Scenario, err error) (context.Context, error) {
		w := getWorld(ctx)
		if err != nil && !errors.Is(err, godog.ErrSkip) && w.lab != nil {
			w.keepLogs(s)
		}
		w.close()
		return ctx, nil
	})

	// Setup.
	sc.Step(`^the tenant:$`, theTenant)
	sc.Step(`^the tenant file "([^"]+)"$`, theTenantFile)
	sc.Step(`^the device "([^"]+)":$`, theDevice)
	sc.Step(`^the device "([^"]+)" from fixture "([^"]+)"$`, theDeviceFromFixture)
	sc.Step(`^the device "([^"]+)" from fixture "([^"]+)" with:$`, theDeviceFromFixtureWith)
	sc.Step(`^the admin "([^"]+)" logged in as "([^"]+)"$`, theAdminLoggedInAs)
	sc.Step(`^the admin "([^"]+)" logged in as "([^"]+)" with:$`, theAdminLoggedInAsWith)
	sc.Step(`^an App Connector "([^"]+)" for server group "([^"]+)" serving "([^"]+)" with an echo service on port (\d+)$`, anAppConnector)
	sc.Step(`^the link of "([^"]+)" has:$`, theLinkOfHas)
	sc.Step(`^the lab starts$`, theLabStarts)
	sc.Step(`^the lab runs its machines in network namespaces$`, machinesInNamespaces)
	sc.Step(`^every node runs as a process of its own, each machine in a network namespace of its own$`, nodesIsolated)
	sc.Step(`^every device's interface IP is in the lab range "([^"]+)"$`, devicesOnLabNetwork)

	// Connections.
	sc.Step(`^"([^"]+)" connects to "([^"]+)"$`, connectsTo)
	sc.Step(`^"([^"]+)" connects to the client IP of "([^"]+)" on port (\d+)$`, connectsToClientIP)
	sc.Step(`^the user status of "([^"]+)" shows a client IP in "([^"]+)"$`, userStatusClientIP)
	sc.Step(`^the connection succeeds$`, theConnectionSucceeds)
	sc.Step(`^the connection is refused with "([^"]+)"$`, theConnectionIsRefusedWith)
	sc.Step(`^the connection is dropped locally with "([^"]+)"$`, theConnectionIsDroppedLocallyWith)
	sc.Step(`^the RDP service answers with a Connection Confirm selecting "([^"]+)"$`, rdpAnswersSelecting)
	sc.Step(`^the RDP service answers a request for "([^"]+)" with RDP_NEG_FAILURE "([^"]+)"$`, rdpRefuses)
	sc.Step(`^the SMB service answers NEGOTIATE with dialect "([^"]+)"$`, smbNegotiates)
	sc.Step(`^(\d+) MiB echoed through the connection come back intact$`, echoedComeBackIntact)
	sc.Step(`^(\d+) MiB sent through the connection arrive intact$`, sentArriveIntact)
	sc.Step(`^"([^"]+)" sends "([^"]*)" with nc to "([^"]+)"$`, ncSends)
	sc.Step(`^the client prints "([^"]*)"$`, clientPrints)
	sc.Step(`^"([^"]+)" resolves client-to-client names through its agent$`, resolvesThroughAgent)
	sc.Step(`^"([^"]+)" resolves "([^"]+)" to an address in "([^"]+)"$`, resolvesInto)
	sc.Step(`^"([^"]+)" cannot resolve "([^"]+)"$`, doesNotResolve)
	sc.Step(`^"([^"]+)" sends "([^"]*)" with nc to "([^"]+)" by name$`, ncSendsByName)
	sc.Step(`^"([^"]+)" sends "([^"]*)" with nc to the client IP of "([^"]+)" on port (\d+)$`, ncSendsToClientIP)
	sc.Step(`^"([^"]+)" forwards local port (\d+) to "([^"]+)"$`, forwardsTo)
	sc.Step(`^nmap's "([^"]+)" script on "([^"]+)" through its forward to "([^"]+)" reports "([^"]+)"(?: and not "([^"]+)")?$`, nmapScriptReports)
	sc.Step(`^"([^"]+)" runs xfreerdp "([^"]*)" through its forward to "([^"]+)"$`, freerdpRuns)
	sc.Step(`^FreeRDP's negotiation went "([^"]+)"$`, freerdpNegotiationWent)
	sc.Step(`^FreeRDP completed TLS with the RDP service's certificate$`, freerdpCompletedTLS)
	sc.Step(`^FreeRDP did not start TLS$`, freerdpDidNotStartTLS)
	sc.Step(`^FreeRDP gave up in state "([^"]+)" with "([^"]+)"$`, freerdpGaveUp)
	sc.Step(`^"([^"]+)" measures the round trip to "([^"]+)" over (\d+) echoes$`, measuresRoundTrip)
	sc.Step(`^"([^"]+)" measures the round trips to "([^"]+)" and "([^"]+)" in turn over (\d+) echoes each$`, measuresRoundTripsInTurn)
	sc.Step(`^the round trip to "([^"]+)" exceeds the one to "([^"]+)" by (\d+) ms ± (\d+)%$`, roundTripExceeds)
	sc.Step(`^(\d+) MiB sent through the connection arrive at (\d+) Mbit/s ± (\d+)%$`, sentArriveAtRate)
	sc.Step(`^(\d+) MiB fetched through the connection arrive intact$`, fetchedArriveIntact)
	sc.Step(`^the round trips to "([^"]+)" spread beyond those to "([^"]+)" as (\d+) ms of jitter each way ± (\d+)%$`, roundTripsJittered)
	sc.Step(`^the machine of "([^"]+)" retransmitted between ([\d.]+)% and ([\d.]+)% of the TCP segments it sent$`, retransmitsBetween)

	// Relay performance, compared with the direct path in the same scenario.
	sc.Step(`^"([^"]+)" runs the reference agent$`, runsTheReferenceAgent)
	sc.Step(`^the agent of "([^"]+)" runs the reference agent$`, agentOfRunsTheReference)
	sc.Step(`^the agent of "([^"]+)" runs that program$`, agentOfRunsTheProgram)
	sc.Step(`^the agent of "([^"]+)" runs that image$`, agentOfRunsTheImage)
	sc.Step(`^"([^"]+)" measures (download|upload) throughput from "([^"]+)" over (\d+) MiB, interleaved with "([^"]+)" from "([^"]+)"$`, measuresThroughputAgainstReference)
	sc.Step(`^the relayed throughput is at least a quarter of the reference agent's$`, relayedThroughputShareOfReference)
	sc.Step(`^"([^"]+)" measures (\d+) round trips to "([^"]+)", interleaved with "([^"]+)" to "([^"]+)"$`, measuresRoundTripsAgainstReference)
	sc.Step(`^the relayed round trips are within twice the reference agent's$`, relayedRoundTripsWithinReference)
	sc.Step(`^"([^"]+)" opens (\d+) connections to "([^"]+)" through the relay$`, opensConnections)
	sc.Step(`^connection setup through the relay has p50 below (\d+) ms$`, setupBelow)

	// A third-party agent in place of the reference one (NET-4).
	sc.Step(`^every agent is the program built from "([^"]+)"$`, agentsAreExternalProgram)
	sc.Step(`^every agent node runs that program$`, agentsRunTheProgram)
	sc.Step(`^every agent is a container of an image of the program built from "([^"]+)"$`, agentsAreImage)
	sc.Step(`^every agent node runs that image$`, agentsRunTheImage)
	sc.Step(`^the agent under test is the broken agent "([^"]+)"$`, agentUnderTestIsBroken)
	sc.Step(`^no byte echoed through the connection comes back, the client sees a reset, and the agent of "([^"]+)" logged "([^"]+)" for it$`, relayFailsAfterSetup)

	// Load.
	sc.Step(`^(\d+) devices "([^"]+)-N" from fixture "([^"]+)" with:$`, devicesNamed)
	sc.Step(`^"([^"]+)" keeps (\d+) checked streams flowing both ways while opening (\d+) checked connections a second, for (\d+) s, to port 9000 and 7 of the devices$`,
		loadRun)
	sc.Step(`^within (\d+) s every node holds at most (\d+) more sockets and less than (\d+) MiB more memory than before$`, resourcesSettle)
	sc.Step(`^every connection record of the broker is Closed within (\d+) s$`, everyActivityClosed)

	// Faults.
	sc.Step(`^the broker is killed and restarted after (\d+) s$`, brokerRestarts)
	sc.Step(`^every agent is registered again within (\d+) s$`, everyAgentRegisteredAgain)
	sc.Step(`^(\d+) MiB fetched through the connection stop within (\d+) s of the agent of "([^"]+)" being killed, with no wrong byte$`, func(ctx context.Context, n, secs int, name string) error {
		return fetchWhileAgentKilled(ctx, n, name, secs)
	})
	sc.Step(`^the broker's record of the connection is Closed within (\d+) s$`, activityClosed)
	sc.Step(`^the link of "([^"]+)" is (cut|restored)$`, linkOfIs)
	sc.Step(`^"([^"]+)" is registered again within (\d+) s$`, registeredAgainWithin)
	sc.Step(`^the broker ends the session of "([^"]+)" within (\d+) s$`, sessionEndsWithin)
	sc.Step(`^(\d+) MiB fetched after the reader stalls (\d+) s arrive intact, while the broker and the agents of "([^"]+)" and "([^"]+)" grow by less than (\d+) MiB$`,
		func(ctx context.Context, n, secs int, from, to string, limit int) error {
			return stalledReaderKeepsMemoryFlat(ctx, n, secs, limit, from, to)
		})
	sc.Step(`^the certificate of "([^"]+)" comes from a clock (\d+) minutes ahead$`, certificateClockAhead)
	sc.Step(`^"([^"]+)" is not registered, and a node logged "([^"]+)"$`, notRegisteredBecause)

	// Broker diagnostics and agent status.
	sc.Step(`^the user status of "([^"]+)" shows FQDNRegistered (true|false) with "([^"]+)"$`, userStatusRegistered)
	sc.Step(`^the user status of "([^"]+)" shows Valid Hostname (true|false)$`, userStatusValidHostname)
	sc.Step(`^the user status of "([^"]+)" shows it available for client-to-client$`, userStatusAvailable)
	sc.Step(`^the user status of "([^"]+)" shows it unavailable with "([^"]+)"$`, userStatusUnavailable)
	sc.Step(`^the agent of "([^"]+)" shows "([^"]+)" as Client$`, agentShowsClient)
	sc.Step(`^the agent of "([^"]+)" shows no Client$`, agentShowsNoClient)
	sc.Step(`^"([^"]+)" is not connected to the broker$`, notConnected)
	sc.Step(`^the agent of "([^"]+)" stops answering$`, agentStopsAnswering)
	sc.Step(`^the user activity record of the connection has:$`, activityRecordHas)
	sc.Step(`^the user activity record of the connection counts (\d+) MiB from the client$`, activityCountsBytes)
	sc.Step(`^the broker logged nothing for the connection$`, brokerLoggedNothing)
	registerRA(sc)
	registerPull(sc)
	registerImport(sc)
}

// keepLogs prints the tail of every node's log, and keeps the whole logs
// in LogDir when one is set, so a failed scenario can be diagnosed.
func (w *world) keepLogs(s *godog.Scenario) {
	fmt.Fprintf(w.out, "\n=== node logs of failed scenario %q (run %s)\n%s\n", s.Name, w.lab.ID, w.lab.Logs(25))
	if w.cfg.LogDir == "" {
		return
	}
	dst := filepath.Join(w.cfg.LogDir, w.lab.ID+"-"+sanitize(s.Name))
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return
	}
	logs, _ := filepath.Glob(filepath.Join(w.lab.Dir, "*.log"))
	for _, l := range logs {
		if data, err := os.ReadFile(l); err == nil {
			os.WriteFile(filepath.Join(dst, filepath.Base(l)), data, 0o644)
		}
	}
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '_'
	}, s)
}
