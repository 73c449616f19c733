@NET
Feature: Unmodified clients reach devices by name through the agent's DNS
  ZPA's Client Connector answers DNS for the names its client-to-client
  segments cover with synthetic addresses from 100.64.0.0/16 and tunnels
  connections to them. With interception on, the admin's machine resolves
  through its agent's DNS and the lab redirects TCP to the synthetic range
  into the agent, so a client that knows nothing of SOCKS or forwards
  reaches the device by its FQDN. Only the netns backend can change a
  machine's resolver and firewall; other backends skip.

  # NET-1, not EP-2: the connector certification profile holds EP-2 as
  # mandatory and runs on loopback with the vendor's agent, where this
  # scenario must skip and DNS/Intercept are optional extensions; a skip
  # under a mandatory requirement would deny every certification.
  @NET-1 @interception
  Scenario: netcat reaches a device by its FQDN through the agent's DNS, without SOCKS or a forward
    Given the tenant:
      """
      name: example
      clientHostnameValidation: ['.*\.example\.com']
      applicationSegments:
        - name: Workstations
          domainNames: ["*.example.com"]
          tcpPortRange: [{from: 7, to: 7}]
      """
    And the admin "helpdesk-01" logged in as "admin@example.com"
    And the device "desk" from fixture "win-4.5-ad" with:
      | hostname         | desk                    |
      | primaryDnsSuffix | example.com             |
      | services         | [{kind: echo, port: 7}] |
    And "helpdesk-01" resolves client-to-client names through its agent
    When the lab starts
    Then "helpdesk-01" resolves "desk.example.com" to an address in "100.64.0.0/16"
    And "helpdesk-01" cannot resolve "desk.example.org"
    When "helpdesk-01" sends "hello" with nc to "desk.example.com:7" by name
    Then the client prints "hello"
