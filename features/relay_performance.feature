@NET @NET-3
Feature: Relayed bytes arrive intact, at a throughput and round trip compared with the direct path
  Every byte each probe moves is checked (sim/measure, docs/MEASURE.md): a
  fast relay that delivers one wrong byte fails. Throughput is judged as a
  share of the direct path measured in the same scenario (the runner to the
  device's interface IP over the same network, no relay), three rounds
  each, alternating, medians compared, so the machine's speed and load
  matter less than the relay's. The bounds are conformance floors, not the
  performance targets: `c2clab bench` measures those (docs/PERFORMANCE.md).

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

  Scenario: A device's screen stream (device to admin) keeps a fair share of the direct throughput, every byte checked
    When the lab starts
    And "helpdesk-01" measures download throughput from "desk.example.com:9000" over 32 MiB, through the relay and directly
    Then the relayed throughput is at least 10% of the direct one

  Scenario: The admin's input and uploads (admin to device) keep a fair share of the direct throughput, every byte checked
    When the lab starts
    And "helpdesk-01" measures upload throughput from "desk.example.com:9000" over 32 MiB, through the relay and directly
    Then the relayed throughput is at least 10% of the direct one

  Scenario: Round trips through the relay stay interactive, and setup is quick
    When the lab starts
    And "helpdesk-01" measures 2000 round trips to "desk.example.com:7", through the relay and directly
    Then the relayed round trips have p99 below 20 ms
    When "helpdesk-01" opens 50 connections to "desk.example.com:7" through the relay
    Then connection setup through the relay has p50 below 50 ms
