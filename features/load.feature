@reliability @load
Feature: Load: many devices, long and short connections at once, nothing lost and nothing leaked
  A bounded soak: twenty devices, long byte-checked streams both ways and
  a steady rate of short checked connections at the same time. Every byte
  is checked; afterwards every node's sockets and memory return
  near where they were, and the broker holds no open record.

  Scenario: Twenty devices under long and short connections for 10 s
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
    And 20 devices "desk-N" from fixture "win-4.5-ad" with:
      | primaryDnsSuffix | example.com                                        |
      | services         | [{kind: echo, port: 7}, {kind: bulk, port: 9000}] |
    When the lab starts
    And "helpdesk-01" keeps 8 checked streams flowing both ways while opening 50 checked connections a second, for 10 s, to port 9000 and 7 of the devices
    Then every connection record of the broker is Closed within 10 s
    And within 10 s every node holds at most 2 more sockets and less than 32 MiB more memory than before
