@SEG
Feature: Application segments for client-to-client
  The most specific segment for the requested name decides (ports are not
  considered when choosing it); only its ports are reachable, a disabled
  segment blocks, and a client-to-client segment needs no server group or
  App Connector.

  Background:
    Given the tenant:
      """
      name: example
      clientHostnameValidation: ['.*\.example\.com']
      applicationSegments:
        - id: ws
          name: Workstations
          domainNames: ["*.example.com"]
          tcpPortRange: [{from: 3389, to: 3389}, {from: 445, to: 445}]
        - id: hr
          name: HR workstations
          domainNames: ["*.hr.example.com"]
          tcpPortRange: [{from: 3389, to: 3389}]
        - id: db
          name: HR databases
          domainNames: ["*.db.hr.example.com"]
          tcpPortRange: [{from: 5432, to: 5432}]
        - id: lab
          name: Lab PCs
          enabled: false
          domainNames: ["*.lab.example.com"]
          tcpPortRange: [{from: 3389, to: 3389}]
      """
    And the admin "helpdesk-01" logged in as "admin@example.com"

  @SEG-2 @SEG-3
  Scenario: A wildcard matches across several labels and needs no server group
    Given the device "hr-pc" from fixture "win-4.5-ad" with:
      | hostname         | pc7                |
      | primaryDnsSuffix | floor2.hr.example.com |
    When the lab starts
    And "helpdesk-01" connects to "pc7.floor2.hr.example.com:3389"
    Then the connection succeeds
    And the user activity record of the connection has:
      | accessType | Client to Client |
      | segment    | HR workstations  |
      | status     | Active           |

  @SEG-3 @SEG-4
  Scenario: The most specific segment lacks the port: the source agent drops it locally
    Given the device "hr-pc" from fixture "win-4.5-ad" with:
      | hostname         | pc7             |
      | primaryDnsSuffix | hr.example.com  |
    When the lab starts
    And "helpdesk-01" connects to "pc7.hr.example.com:445"
    Then the connection is dropped locally with "CLT_PORT_NOT_IN_SEGMENT"
    And the broker logged nothing for the connection

  @SEG-3 @SEG-4
  Scenario: A longer wildcard suffix beats a shorter one, and only its ports are open
    Given the device "db-host" from fixture "linux-1.4" with:
      | hostname         | pg1                  |
      | primaryDnsSuffix | db.hr.example.com    |
      | services         | [{kind: echo, port: 5432}, {kind: rdp, port: 3389}] |
    When the lab starts
    And "helpdesk-01" connects to "pg1.db.hr.example.com:5432"
    Then the connection succeeds
    And 1 MiB echoed through the connection come back intact
    And the user activity record of the connection has:
      | segment | HR databases |
    When "helpdesk-01" connects to "pg1.db.hr.example.com:3389"
    Then the connection is dropped locally with "CLT_PORT_NOT_IN_SEGMENT"

  @SEG-5
  Scenario: A disabled segment blocks access
    Given the device "lab-pc" from fixture "win-4.5-ad" with:
      | hostname         | bench3          |
      | primaryDnsSuffix | lab.example.com |
    When the lab starts
    And "helpdesk-01" connects to "bench3.lab.example.com:3389"
    Then the connection is refused with "BRK_MT_SETUP_FAIL_NO_POLICY_FOUND"
    And the user activity record of the connection has:
      | segment        | Lab PCs                           |
      | internalReason | BRK_MT_SETUP_FAIL_NO_POLICY_FOUND |

  @SEG-1
  Scenario: With a wildcard segment and a narrower regex only devices matching both are reachable
    Given the tenant:
      """
      name: narrow
      clientHostnameValidation: ['desktop-[a-zA-Z0-9]{5}-AC\.example\.com']
      applicationSegments:
        - name: All of example.com
          domainNames: ["*.example.com"]
          tcpPortRange: [{from: 3389, to: 3389}]
      """
    And the admin "helpdesk-02" logged in as "admin@example.com"
    And the device "ws-match" from fixture "win-4.5-ad" with:
      | hostname         | desktop-AB12C-AC |
      | primaryDnsSuffix | example.com      |
    And the device "ws-wildcard-only" from fixture "win-4.5-ad" with:
      | hostname         | laptop-17   |
      | primaryDnsSuffix | example.com |
    When the lab starts
    And "helpdesk-02" connects to "desktop-AB12C-AC.example.com:3389"
    Then the connection succeeds
    When "helpdesk-02" connects to "laptop-17.example.com:3389"
    Then the connection is refused with "C2C_CLIENT_NOT_FOUND"

  @SEG-2 @SEG-3
  Scenario: One namespace: an app on its own FQDN segment via an App Connector, workstations client-to-client
    Given the tenant:
      """
      name: shared
      clientHostnameValidation: ['.*\.example\.com']
      serverGroups: [{id: srv-dc, name: DC app servers}]
      segmentGroups: [{id: grp-apps, name: Applications}]
      applicationSegments:
        - {id: wiki, name: Wiki, domainNames: [wiki.example.com], tcpPortRange: [{from: 8080, to: 8080}], segmentGroupId: grp-apps, serverGroups: [{id: srv-dc}]}
        - {id: ws, name: Workstations, domainNames: ["*.example.com"], tcpPortRange: [{from: 3389, to: 3389}]}
      rules:
        - {id: r-apps, name: Everyone to applications, ruleOrder: 1, action: ALLOW, conditions: [{operands: [{objectType: APP_GROUP, lhs: id, rhs: grp-apps}]}]}
      """
    And an App Connector "dc-connector" for server group "srv-dc" serving "wiki.example.com" with an echo service on port 8080
    And the admin "helpdesk-04" logged in as "admin@example.com"
    And the device "ws4" from fixture "win-4.5-ad" with:
      | hostname         | ws4         |
      | primaryDnsSuffix | example.com |
    When the lab starts
    And "helpdesk-04" connects to "wiki.example.com:8080"
    Then the connection succeeds
    And 1 MiB echoed through the connection come back intact
    And the user activity record of the connection has:
      | accessType | Client to Server         |
      | segment    | Wiki                     |
      | rule       | Everyone to applications |
    When "helpdesk-04" connects to "ws4.example.com:3389"
    Then the connection succeeds
    And the user activity record of the connection has:
      | accessType | Client to Client |
      | segment    | Workstations     |
      | rule       |                  |
