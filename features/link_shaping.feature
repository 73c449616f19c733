@NET
Feature: Shaped links, verified by measurement through the relay
  This kernel has no sch_netem, so delay, jitter, loss and rate come from
  the lab's own user-space link emulator spliced into a device's attachment
  (docs/NETWORK.md). Each impairment is checked by measuring what an admin
  sees through the relay, compared with an unimpaired device in the same
  run. Links exist on the netns backend; elsewhere these scenarios skip.
  They are not tagged NET-2: jitter and loss are not yet measured through
  the relay, so the requirement is not claimed.

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
