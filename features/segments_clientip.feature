@SEG
Feature: An unmodified client reaches a device by its client IP
  ZPA's Client Connector intercepts traffic to the addresses its
  application segments list, so with client IP assignment (the tenant's
  c2cIpRanges) an admin's plain client connects to a device's client IP
  and is carried Client to Client through the segment covering it (SEG-9).
  On the netns backend the lab sends TCP from the admin's machine to every
  range where a segment's IPs or CIDRs meet the c2c ranges into its agent
  (a local route and an iptables REDIRECT, removed with the namespace); the
  agent reads the original destination (SO_ORIGINAL_DST) and decides as it
  does for a SOCKS request, with the same codes and records. Other backends
  cannot change a machine's routes and firewall: there the scenarios skip
  with that reason (features/segments_multimatch.feature reaches the same
  address through SOCKS5 on every backend).

  @SEG-9 @interception
  Scenario Outline: nc to the client IP of a device, inside and outside the synthetic range
    Given the tenant:
      """
      name: client-ips
      clientHostnameValidation: ['.*\.example\.com']
      c2cIpRanges: [{id: "1", name: C2C, subnetCidr: <range>}]
      applicationSegments:
        - {id: names, name: Workstations, domainNames: ["*.ws.example.com"], tcpPortRange: [{from: 7, to: 7}]}
        - {id: ips, name: Workstation IPs, domainNames: ["<range>"], tcpPortRange: [{from: 7, to: 7}]}
      """
    And the device "ws6" from fixture "win-4.5-ad" with:
      | hostname         | ws6                                               |
      | primaryDnsSuffix | ws.example.com                                    |
      | services         | [{kind: echo, port: 7}, {kind: echo, port: 9}]    |
    And the admin "helpdesk-06" logged in as "admin@example.com"
    And "helpdesk-06" resolves client-to-client names through its agent
    When the lab starts
    Then the user status of "ws6" shows a client IP in "<range>"
    When "helpdesk-06" sends "hello" with nc to the client IP of "ws6" on port 7
    Then the client prints "hello"
    And the connection succeeds
    And the user activity record of the connection has:
      | segment     | Workstation IPs  |
      | accessType  | Client to Client |
      | destination | ws6              |
    When "helpdesk-06" sends "hello" with nc to the client IP of "ws6" on port 9
    Then the connection is dropped locally with "CLT_PORT_NOT_IN_SEGMENT"

    # 198.19.255.0/24 lies in the lab's benchmarking range but in no lab
    # network the scenario's machines use: the admin's local route keeps
    # it on that machine, so no packet to it leaves.
    Examples:
      | range           |
      | 100.64.240.0/24 |
      | 198.19.255.0/24 |
