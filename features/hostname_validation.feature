@HV
Feature: Client hostname validation
  A device is enrolled for client-to-client only when the FQDN its connector
  reports (machine hostname + primary DNS suffix) matches the tenant's one
  client hostname validation regex, as a whole and case-sensitively. The
  broker shows the outcome in User Status; the connector shows its FQDN as
  "Client" only when registration succeeded.

  Background:
    Given the tenant:
      """
      name: example
      clientHostnameValidation: ['.*\.example\.com']
      applicationSegments:
        - name: Workstations
          domainNames: ["*.example.com"]
          tcpPortRange: [{from: 3389, to: 3389}]
      """
    And the admin "helpdesk-01" logged in as "admin@example.com"

  @HV-2 @HV-3 @DEV-6 @EP-2
  Scenario: A device whose FQDN matches the regex is enrolled and reachable by RDP
    Given the device "testPC":
      | hostname         | testPC      |
      | primaryDnsSuffix | example.com |
      | os               | windows     |
      | connectorVersion | 4.5.0.300   |
      | joinState        | ad          |
      | loggedIn         | true        |
    When the lab starts
    Then the user status of "testPC" shows FQDNRegistered true with "FQDN_MATCH"
    And the user status of "testPC" shows Valid Hostname true
    And the user status of "testPC" shows it available for client-to-client
    And the agent of "testPC" shows "testPC.example.com" as Client
    When "helpdesk-01" connects to "testPC.example.com:3389"
    Then the connection succeeds
    And the RDP service answers with a Connection Confirm selecting "ssl"

  @HV-2 @HV-3
  Scenario Outline: The regex must match the whole FQDN, case-sensitively: <why>
    Given the device "dut":
      | hostname         | <hostname> |
      | primaryDnsSuffix | <suffix>   |
      | os               | windows    |
      | connectorVersion | 4.5.0.300  |
      | joinState        | ad         |
      | loggedIn         | true       |
    When the lab starts
    Then the user status of "dut" shows FQDNRegistered false with "FQDN_NO_MATCH"
    And the user status of "dut" shows Valid Hostname false
    And the agent of "dut" shows no Client

    Examples:
      | why                              | hostname | suffix                 |
      | a longer name is not a match     | testPC   | example.com.evil.test  |
      | another domain                   | testPC   | example.org            |
      | the regex is case-sensitive      | testPC   | EXAMPLE.COM            |

  @HV-4 @HV-3
  Scenario: A device without a primary DNS suffix reports a bare hostname and is not enrolled
    Given the device "bare":
      | hostname         | testPC    |
      | os               | windows   |
      | connectorVersion | 4.5.0.300 |
      | joinState        | hybrid    |
      | loggedIn         | true      |
    When the lab starts
    Then the user status of "bare" shows FQDNRegistered false with "FQDN_NO_MATCH"
    And the agent of "bare" shows no Client
    When "helpdesk-01" connects to "testPC.example.com:3389"
    Then the connection is refused with "C2C_CLIENT_NOT_FOUND"

  @HV-5 @HV-4 @HV-3
  Scenario: A connector that does not collect the hostname reports no FQDN
    Given the device "quiet":
      | hostname         | testPC      |
      | primaryDnsSuffix | example.com |
      | os               | windows     |
      | connectorVersion | 4.5.0.300   |
      | joinState        | ad          |
      | loggedIn         | true        |
      | collectHostname  | false       |
    When the lab starts
    Then the user status of "quiet" shows FQDNRegistered false with "FQDN_EMPTY"
    And the agent of "quiet" shows no Client
    When "helpdesk-01" connects to "testPC.example.com:3389"
    Then the connection is refused with "C2C_CLIENT_NOT_FOUND"

  @HV-6 @HV-3
  Scenario: Two devices reporting the same FQDN: the first keeps it, the later is refused
    Given the device "first":
      | hostname         | shared-pc   |
      | primaryDnsSuffix | example.com |
      | os               | windows     |
      | connectorVersion | 4.5.0.300   |
      | joinState        | ad          |
      | loggedIn         | true        |
    And the device "second":
      | hostname         | shared-pc   |
      | primaryDnsSuffix | example.com |
      | os               | linux       |
      | connectorVersion | 1.5         |
      | joinState        | azure       |
      | loggedIn         | true        |
    When the lab starts
    Then the user status of "first" shows FQDNRegistered true with "FQDN_MATCH"
    And the user status of "second" shows FQDNRegistered false with "FQDN_DUPLICATE"
    And the agent of "second" shows no Client
    When "helpdesk-01" connects to "shared-pc.example.com:3389"
    Then the connection succeeds
    And the user activity record of the connection has:
      | destination | first |
