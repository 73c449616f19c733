@HV
Feature: Exactly one client hostname validation regex per tenant
  ZPA accepts one regex per tenant. With none, more than one, or one that
  does not compile, no device is enrolled and the User Status says why.

  @HV-1 @HV-3
  Scenario Outline: <why>: no device is enrolled
    Given the tenant:
      """
      name: example
      clientHostnameValidation: <regexes>
      applicationSegments:
        - name: Workstations
          domainNames: ["*.example.com"]
          tcpPortRange: [{from: 3389, to: 3389}]
      """
    And the admin "helpdesk-01" logged in as "admin@example.com"
    And the device "testPC":
      | hostname         | testPC      |
      | primaryDnsSuffix | example.com |
      | os               | windows     |
      | connectorVersion | 4.5.0.300   |
      | joinState        | ad          |
      | loggedIn         | true        |
    When the lab starts
    Then the user status of "testPC" shows FQDNRegistered false with "<code>"
    And the agent of "testPC" shows no Client
    When "helpdesk-01" connects to "testPC.example.com:3389"
    Then the connection is refused with "C2C_CLIENT_NOT_FOUND"

    Examples:
      | why                       | regexes                                | code                |
      | no regex                  | []                                     | FQDN_NO_ENTRIES     |
      | two regexes               | ['.*\.example\.com', 'testPC\..*']     | FQDN_TOO_MANY_REGEX |
      | a regex that cannot compile | ['desktop-[a-z']                     | FQDN_BAD_REGEX      |

  @HV-2 @HV-1
  Scenario: The strict regex of the configuration guide enrols only its own names
    Given the tenant:
      """
      name: example
      clientHostnameValidation: ['desktop-[a-zA-Z0-9]{5}-AC\.example\.com']
      applicationSegments:
        - name: Workstations
          domainNames: ["*.example.com"]
          tcpPortRange: [{from: 3389, to: 3389}]
      """
    And the admin "helpdesk-01" logged in as "admin@example.com"
    And the device "good" from fixture "win-3.9.0.169-ad" with:
      | hostname         | desktop-10B38-AC |
      | primaryDnsSuffix | example.com      |
    And the device "near-miss" from fixture "win-3.9.0.169-ad" with:
      | hostname         | desktop-10B3-AC |
      | primaryDnsSuffix | example.com     |
    When the lab starts
    Then the user status of "good" shows FQDNRegistered true with "FQDN_MATCH"
    And the user status of "near-miss" shows FQDNRegistered false with "FQDN_NO_MATCH"
    When "helpdesk-01" connects to "desktop-10B38-AC.example.com:3389"
    Then the connection succeeds
    When "helpdesk-01" connects to "desktop-10B3-AC.example.com:3389"
    Then the connection is refused with "C2C_CLIENT_NOT_FOUND"
