@POL
Feature: Access policy for client-to-client
  Rules are evaluated by rule order and the first match decides. A rule's
  conditions are ANDed; the operands of one condition are ORed (its default
  operator), so two groups in one condition are either-or, and a segment
  group and a SCIM group in two conditions are both needed (POL-3 revised,
  see access_policy_conditions.feature). With no matching rule, any
  user of the organization may reach any enrolled device (the documented
  default), unless the tenant switches to ZPA's implicit block; never
  across organizations.

  Background:
    Given the tenant:
      """
      name: example
      clientHostnameValidation: ['.*\.example\.com']
      implicitPolicy: block
      users:
        - {name: admin@example.com, groups: [helpdesk]}
        - {name: contractor@example.com, groups: [helpdesk, contractors]}
        - {name: intern@example.com, groups: [interns]}
      segmentGroups:
        - {id: grp-ws, name: Workstations}
      applicationSegments:
        - {id: ws, name: Workstations, segmentGroupId: grp-ws, domainNames: ["*.example.com"], tcpPortRange: [{from: 3389, to: 3389}]}
        - {id: srv, name: Servers, domainNames: ["*.srv.example.com"], tcpPortRange: [{from: 3389, to: 3389}]}
      rules:
        - id: r2
          name: Helpdesk reaches workstations
          ruleOrder: "2"
          action: ALLOW
          conditions:
            - operands: [{objectType: APP_GROUP, lhs: id, rhs: grp-ws}]
            - operands: [{objectType: SCIM_GROUP, lhs: idp, rhs: helpdesk}, {objectType: SCIM_GROUP, lhs: idp, rhs: interns}]
        - id: r1
          name: Block contractors
          ruleOrder: "1"
          action: DENY
          conditions:
            - operands: [{objectType: SCIM_GROUP, lhs: idp, rhs: contractors}]
      """
    And the device "ws1" from fixture "win-4.5-ad" with:
      | hostname         | ws1         |
      | primaryDnsSuffix | example.com |
    And the device "srv1" from fixture "win-4.5-ad" with:
      | hostname         | srv1            |
      | primaryDnsSuffix | srv.example.com |

  @POL-1 @POL-3
  Scenario: A user of an allowed group reaches a workstation; the rule is logged
    Given the admin "helpdesk-01" logged in as "admin@example.com"
    When the lab starts
    And "helpdesk-01" connects to "ws1.example.com:3389"
    Then the connection succeeds
    And the user activity record of the connection has:
      | user   | admin@example.com             |
      | rule   | Helpdesk reaches workstations |
      | action | ALLOW                         |

  @POL-1 @LOG-2
  Scenario: The first matching rule by rule order decides, even when a later rule would allow
    Given the admin "helpdesk-03" logged in as "contractor@example.com"
    When the lab starts
    And "helpdesk-03" connects to "ws1.example.com:3389"
    Then the connection is refused with "BRK_MT_SETUP_FAIL_REJECTED_BY_POLICY"
    And the user activity record of the connection has:
      | rule           | Block contractors                    |
      | action         | DENY                                 |
      | internalReason | BRK_MT_SETUP_FAIL_REJECTED_BY_POLICY |

  @POL-3
  Scenario: Two conditions are ANDed: the right group on the wrong segment group is not enough
    Given the admin "helpdesk-01" logged in as "admin@example.com"
    When the lab starts
    And "helpdesk-01" connects to "srv1.srv.example.com:3389"
    Then the connection is refused with "BRK_MT_SETUP_FAIL_NO_POLICY_FOUND"

  @POL-3
  Scenario: The operands of one OR condition: either group satisfies the rule
    Given the admin "intern-01" logged in as "intern@example.com"
    When the lab starts
    And "intern-01" connects to "ws1.example.com:3389"
    Then the connection succeeds
    And the user activity record of the connection has:
      | rule | Helpdesk reaches workstations |

  @POL-2
  Scenario: Without an access rule any user of the organization reaches any enrolled device
    Given the tenant:
      """
      name: open
      clientHostnameValidation: ['.*\.example\.com']
      applicationSegments:
        - name: Workstations
          domainNames: ["*.example.com"]
          tcpPortRange: [{from: 3389, to: 3389}]
      """
    And the admin "anyone-01" logged in as "someone@example.com"
    And the device "ws9" from fixture "win-4.5-ad" with:
      | hostname         | ws9         |
      | primaryDnsSuffix | example.com |
    When the lab starts
    And "anyone-01" connects to "ws9.example.com:3389"
    Then the connection succeeds
    And the user activity record of the connection has:
      | rule   |       |
      | action | ALLOW |

  @POL-2
  Scenario: With the implicit block a request no rule covers is refused
    Given the admin "intern-01" logged in as "intern@example.com"
    When the lab starts
    And "intern-01" connects to "srv1.srv.example.com:3389"
    Then the connection is refused with "BRK_MT_SETUP_FAIL_NO_POLICY_FOUND"

  @POL-2
  Scenario: Never across organizations: another tenant's device is not found
    Given the tenant:
      """
      name: other-org
      clientHostnameValidation: ['.*\.example\.com']
      applicationSegments:
        - name: Workstations
          domainNames: ["*.example.com"]
          tcpPortRange: [{from: 3389, to: 3389}]
      """
    And the device "foreign" from fixture "win-4.5-ad" with:
      | hostname         | foreign     |
      | primaryDnsSuffix | example.com |
    And the admin "helpdesk-09" logged in as "admin@example.com"
    When the lab starts
    Then the user status of "foreign" shows FQDNRegistered true with "FQDN_MATCH"
    When "helpdesk-09" connects to "ws1.example.com:3389"
    Then the connection is refused with "C2C_CLIENT_NOT_FOUND"
