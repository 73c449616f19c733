@NET @NET-3
Feature: Relayed bytes arrive intact, at a throughput and round trip no worse than the reference agent's
  Every byte each probe moves is checked (sim/measure, docs/MEASURE.md): a
  fast relay that delivers one wrong byte fails. The agents of
  "helpdesk-01" and "desk" are the ones under test (under `c2clab
  certify`, the vendor's, in each pairing); "helpdesk-ref" and "desk-ref"
  always run the reference agent, through the same broker on the same
  network. The two relays are measured interleaved in the same scenario,
  medians of throughput and the best round trips compared, so the machine's load hits both alike and the verdict
  does not swing with it the way a bar against the direct path does
  (docs/CERTIFICATION.md, "NET-3"). The direct path is measured too, for
  context only. These are conformance bounds, not the performance
  targets: `c2clab bench` measures those (docs/PERFORMANCE.md).

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
    And the device "desk" from fixture "win-4.5-ad" with:
      | hostname         | desk                                               |
      | primaryDnsSuffix | example.com                                        |
      | services         | [{kind: echo, port: 7}, {kind: bulk, port: 9000}] |
    And the admin "helpdesk-ref" logged in as "admin@example.com"
    And the device "desk-ref" from fixture "win-4.5-ad" with:
      | hostname         | desk-ref                                           |
      | primaryDnsSuffix | example.com                                        |
      | services         | [{kind: echo, port: 7}, {kind: bulk, port: 9000}] |
    And "helpdesk-ref" runs the reference agent
    And "desk-ref" runs the reference agent

  Scenario: A device's screen stream (device to admin) keeps at least a quarter of the reference agent's throughput, every byte checked
    When the lab starts
    And "helpdesk-01" measures download throughput from "desk.example.com:9000" over 16 MiB, interleaved with "helpdesk-ref" from "desk-ref.example.com:9000"
    Then the relayed throughput is at least a quarter of the reference agent's

  Scenario: The admin's input and uploads (admin to device) keep at least a quarter of the reference agent's throughput, every byte checked
    When the lab starts
    And "helpdesk-01" measures upload throughput from "desk.example.com:9000" over 16 MiB, interleaved with "helpdesk-ref" from "desk-ref.example.com:9000"
    Then the relayed throughput is at least a quarter of the reference agent's

  Scenario: Round trips through the relay stay within twice the reference agent's, and setup is quick
    When the lab starts
    And "helpdesk-01" measures 500 round trips to "desk.example.com:7", interleaved with "helpdesk-ref" to "desk-ref.example.com:7"
    Then the relayed round trips are within twice the reference agent's
    When "helpdesk-01" opens 50 connections to "desk.example.com:7" through the relay
    Then connection setup through the relay has p50 below 50 ms
