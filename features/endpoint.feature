@EP
Feature: Delivery to the destination's local service
  The destination connector delivers each connection to the local service
  at the device's own interface IP, not 127.0.0.1. A host firewall that
  refuses the interface IP makes that connection fail with
  C2C_MTUNNEL_FAILED_FORWARD and harms nothing else.

  Background:
    Given the tenant:
      """
      name: example
      clientHostnameValidation: ['.*\.example\.com']
      applicationSegments:
        - name: Workstations
          domainNames: ["*.example.com"]
          tcpPortRange: [{from: 3389, to: 3389}, {from: 7, to: 7}]
      """
    And the admin "helpdesk-01" logged in as "admin@example.com"

  @EP-1
  Scenario: The service listens only on the interface IP and is reached there
    Given the device "ws1" from fixture "win-4.5-ad" with:
      | hostname         | ws1         |
      | primaryDnsSuffix | example.com |
      | services         | [{kind: echo, port: 7}] |
    When the lab starts
    And "helpdesk-01" connects to "ws1.example.com:7"
    Then the connection succeeds
    And 4 MiB echoed through the connection come back intact

  @EP-1 @LOG-2
  Scenario: A firewall refusing the interface IP fails that connection only
    Given the device "walled" from fixture "win-4.5-firewall-blocks" with:
      | hostname         | walled      |
      | primaryDnsSuffix | example.com |
    And the device "open" from fixture "win-4.5-ad" with:
      | hostname         | open        |
      | primaryDnsSuffix | example.com |
    When the lab starts
    And "helpdesk-01" connects to "walled.example.com:3389"
    Then the connection is refused with "C2C_MTUNNEL_FAILED_FORWARD"
    And the user activity record of the connection has:
      | internalReason | C2C_MTUNNEL_FAILED_FORWARD |
      | status         | Closed                     |
    When "helpdesk-01" connects to "open.example.com:3389"
    Then the connection succeeds
    And the RDP service answers with a Connection Confirm selecting "ssl"
    And the user status of "walled" shows it available for client-to-client

  @EP-1
  Scenario: An unmodified client (OpenBSD netcat) on the admin's device reaches a device by FQDN
    Given the device "ws2" from fixture "win-4.5-ad" with:
      | hostname         | ws2         |
      | primaryDnsSuffix | example.com |
      | services         | [{kind: echo, port: 7}] |
    When the lab starts
    And "helpdesk-01" sends "hello through the broker" with nc to "ws2.example.com:7"
    Then the client prints "hello through the broker"

  @EP-2
  Scenario: psexec's transport: SMB on 445 answers NEGOTIATE through the relay
    Given the tenant:
      """
      name: smb
      clientHostnameValidation: ['.*\.example\.com']
      applicationSegments:
        - name: Workstations
          domainNames: ["*.example.com"]
          tcpPortRange: [{from: 445, to: 445}]
      """
    And the admin "helpdesk-05" logged in as "admin@example.com"
    And the device "ws5" from fixture "win-4.5-ad" with:
      | hostname         | ws5                      |
      | primaryDnsSuffix | example.com              |
      | services         | [{kind: smb, port: 445}] |
      | smb              | {dialect: "3.0.2"}       |
    When the lab starts
    And "helpdesk-05" connects to "ws5.example.com:445"
    Then the connection succeeds
    And the SMB service answers NEGOTIATE with dialect "3.0.2"

  @EP-2
  Scenario: An RDP server that allows only standard RDP security refuses TLS with RDP_NEG_FAILURE
    Given the device "legacy" from fixture "win-4.5-ad" with:
      | hostname         | legacy             |
      | primaryDnsSuffix | example.com        |
      | rdp              | {enabled: true, protocols: [rdp]} |
    When the lab starts
    And "helpdesk-01" connects to "legacy.example.com:3389"
    Then the connection succeeds
    And the RDP service answers a request for "ssl,hybrid" with RDP_NEG_FAILURE "SSL_NOT_ALLOWED_BY_SERVER"
