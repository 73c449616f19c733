@LOG
Feature: User Activity log of client-to-client connections
  Every client-to-client connection is logged with Access Type "Client to
  Client", user, source and destination, FQDN, port, segment, rule and
  action, status, status code, start and end in microseconds, and bytes
  each way; failures carry ZPA's codes.

  Background:
    Given the tenant:
      """
      name: example
      clientHostnameValidation: ['.*\.example\.com']
      applicationSegments:
        - id: ws
          name: Workstations
          domainNames: ["*.example.com"]
          tcpPortRange: [{from: 3389, to: 3389}, {from: 9000, to: 9000}]
      rules:
        - {id: r1, name: Everyone to workstations, ruleOrder: 1, action: ALLOW, conditions: [{operands: [{objectType: APP, lhs: id, rhs: ws}]}]}
      """
    And the admin "helpdesk-01" logged in as "admin@example.com"

  @LOG-1
  Scenario: A completed connection is logged with every field and the bytes each way
    Given the device "ws1" from fixture "win-4.5-ad" with:
      | hostname         | ws1         |
      | primaryDnsSuffix | example.com |
      | services         | [{kind: bulk, port: 9000}] |
    When the lab starts
    And "helpdesk-01" connects to "ws1.example.com:9000"
    Then the connection succeeds
    And the user activity record of the connection has:
      | status | Active |
    And 32 MiB sent through the connection arrive intact
    And the user activity record of the connection has:
      | accessType     | Client to Client         |
      | user           | admin@example.com        |
      | source         | helpdesk-01              |
      | destination    | ws1                      |
      | fqdn           | ws1.example.com          |
      | port           | 9000                     |
      | segment        | Workstations             |
      | rule           | Everyone to workstations |
      | action         | ALLOW                    |
      | status         | Closed                   |
      | internalReason | MT_CLOSED_TERMINATED     |
    And the user activity record of the connection counts 32 MiB from the client

  @LOG-2
  Scenario: A name no enrolled device holds is logged as C2C_CLIENT_NOT_FOUND
    When the lab starts
    And "helpdesk-01" connects to "nobody.example.com:3389"
    Then the connection is refused with "C2C_CLIENT_NOT_FOUND"
    And the user activity record of the connection has:
      | accessType     | Client to Client     |
      | status         | Closed               |
      | internalReason | C2C_CLIENT_NOT_FOUND |
      | user           | admin@example.com    |

  @LOG-2 @serial
  Scenario: A destination whose connection to the broker expires during setup gives C2C_CLIENT_CONN_EXPIRED
    Given the device "ws1" from fixture "win-4.5-ad" with:
      | hostname         | ws1         |
      | primaryDnsSuffix | example.com |
    When the lab starts
    And the agent of "ws1" stops answering
    And "helpdesk-01" connects to "ws1.example.com:3389"
    Then the connection is refused with "C2C_CLIENT_CONN_EXPIRED"
    And the user activity record of the connection has:
      | destination    | ws1                     |
      | status         | Closed                  |
      | internalReason | C2C_CLIENT_CONN_EXPIRED |
