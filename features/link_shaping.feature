@NET @NET-2
Feature: Shaped links, verified by measurement through the relay
  This kernel has no sch_netem, so delay, jitter, loss and rate come from
  the lab's own user-space link emulator spliced into a device's attachment
  (docs/NETWORK.md). Each impairment is checked by measuring what an admin
  sees through the relay, compared with an unimpaired device in the same
  run. Links exist on the netns backend; elsewhere these scenarios skip.

  Background:
    Given the tenant:
      """
      name: example
      clientHostnameValidation: ['.*\.example\.com']
      applicationSegments:
        - name: Workstations
          domainNames: ["*.example.com"]
          tcpPortRange: [{from: 7, to: 7}, {from: 9000, to: 9000}]
      """
    And the admin "helpdesk-01" logged in as "admin@example.com"

  @link-delay
  Scenario: 20 ms each way on a device's link adds 40 ms to the round trip through the relay
    Given the device "near" from fixture "win-4.5-ad" with:
      | hostname         | near                    |
      | primaryDnsSuffix | example.com             |
      | services         | [{kind: echo, port: 7}] |
    And the device "far" from fixture "win-4.5-ad" with:
      | hostname         | far                     |
      | primaryDnsSuffix | example.com             |
      | services         | [{kind: echo, port: 7}] |
    And the link of "far" has:
      | delay | 20ms |
    When the lab starts
    And "helpdesk-01" measures the round trip to "near.example.com:7" over 50 echoes
    And "helpdesk-01" measures the round trip to "far.example.com:7" over 50 echoes
    Then the round trip to "far.example.com:7" exceeds the one to "near.example.com:7" by 40 ms ± 10%

  @link-jitter
  Scenario: 5 ms of jitter each way spreads the round trips through the relay as it should
    A delay drawn uniformly from 10 ms ± 5 ms each way gives round trips
    spread as the sum of two uniforms: a triangle whose interquartile range
    is 2(2-√2) x 5 ms = 5.86 ms. The step estimates the jitter each way from
    that, less (in quadrature) the interquartile range of a device behind
    the same emulator with the same delay and no jitter, measured in the
    same run, one echo to each in turn: on a busy machine the emulator's
    own wake-ups then spread both alike. Quartiles, unlike
    a variance, hold when a few round trips are late by milliseconds.
    From 500 round trips the estimate itself errs by 0.27 ms (one standard
    deviation, simulated), so ± 20% leaves 1 run in 2,000 outside by
    chance; from 300 it was 1 in 220.
    Given the device "steady" from fixture "win-4.5-ad" with:
      | hostname         | steady                  |
      | primaryDnsSuffix | example.com             |
      | services         | [{kind: echo, port: 7}] |
    And the device "far" from fixture "win-4.5-ad" with:
      | hostname         | far                     |
      | primaryDnsSuffix | example.com             |
      | services         | [{kind: echo, port: 7}] |
    And the link of "steady" has:
      | delay  | 10ms |
    And the link of "far" has:
      | delay  | 10ms |
      | jitter | 5ms  |
    When the lab starts
    And "helpdesk-01" measures the round trips to "steady.example.com:7" and "far.example.com:7" in turn over 500 echoes each
    Then the round trips to "far.example.com:7" spread beyond those to "steady.example.com:7" as 5 ms of jitter each way ± 20%

  @link-loss
  Scenario: 1% loss on a device's link shows as 1% of its segments sent again, and every byte still arrives
    TCP sends every lost data segment again, so the share of segments the
    device's machine retransmitted measures the loss its link imposed on the
    relay's own connections.
    Given the device "far" from fixture "win-4.5-ad" with:
      | hostname         | far                        |
      | primaryDnsSuffix | example.com                |
      | services         | [{kind: bulk, port: 9000}] |
    And the link of "far" has:
      | loss | 1% |
    When the lab starts
    And "helpdesk-01" connects to "far.example.com:9000"
    Then the connection succeeds
    And 32 MiB fetched through the connection arrive intact
    And the machine of "far" retransmitted between 0.5% and 2% of the TCP segments it sent

  @link-rate
  Scenario: A 50 Mbit/s device link carries 50 Mbit/s through the relay, every byte checked
    Given the device "far" from fixture "win-4.5-ad" with:
      | hostname         | far                        |
      | primaryDnsSuffix | example.com                |
      | services         | [{kind: bulk, port: 9000}] |
    And the link of "far" has:
      | rate | 50mbit |
    When the lab starts
    And "helpdesk-01" connects to "far.example.com:9000"
    Then the connection succeeds
    And 16 MiB sent through the connection arrive at 50 Mbit/s ± 10%
