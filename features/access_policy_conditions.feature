@POL
Feature: Access rule conditions as ZPA's API groups them, every operand type, approvals
  A rule's operator (AND by default) combines its conditions; each
  condition's operator combines all of its operands, whatever their type;
  negated inverts one condition. Application segment and segment group
  criteria are ORed ("an explicit OR between application segment and
  segment group criteria"), which ZPA returns as APP and APP_GROUP operands
  in one OR condition. Sources: help.zscaler.com/zpa/about-accesspolicy,
  help.zscaler.com/zpa/configuring-access-policies-using-api; the operand
  types and their lhs/rhs are those of ZPA's access-policy API as the
  Terraform provider validates them (zscaler/terraform-provider-zpa,
  zpa/common.go). Where a rule needs an attribute the lab is not told and
  no earlier rule decided, the broker refuses with
  BRK_MT_SETUP_FAIL_POLICY_UNDECIDED and logs the rule and the attribute
  (REQUIREMENTS.md POL-4 default): never a confident answer.
  REQUIRE_APPROVAL allows only while a privileged approval for the user and
  segment is in force (help.zscaler.com/zpa/about-accesspolicy: "Allow with
  Privileged Approval"; help.zscaler.com/zpa/configuring-privileged-approvals-using-api:
  emailIds, applications, startTime, endTime).

  Background:
    Given the tenant:
      """
      name: conditions
      clientHostnameValidation: ['.*\.example\.com']
      implicitPolicy: block
      users:
        - {name: admin@example.com, groups: [helpdesk]}
        - {name: auditor@example.com, groups: [], samlAttributes: {Department: [IT]}}
        - {name: guest@example.com, groups: [], samlAttributes: {}}
      segmentGroups:
        - {id: grp-ws, name: Workstations}
        - {id: grp-srv, name: Servers}
      applicationSegments:
        - {id: ws, name: Workstations, segmentGroupId: grp-ws, domainNames: ["*.ws.example.com"], tcpPortRange: [{from: 3389, to: 3389}]}
        - {id: kiosk, name: Kiosks, segmentGroupId: grp-srv, domainNames: ["*.kiosk.example.com"], tcpPortRange: [{from: 3389, to: 3389}]}
        - {id: lab, name: Lab, segmentGroupId: grp-srv, domainNames: ["*.lab.example.com"], tcpPortRange: [{from: 3389, to: 3389}]}
      rules:
        - id: r1
          name: Helpdesk or IT reach workstations and kiosks
          ruleOrder: "1"
          action: ALLOW
          conditions:
            - operator: OR
              operands:
                - {objectType: APP_GROUP, lhs: id, rhs: grp-ws}
                - {objectType: APP, lhs: id, rhs: kiosk}
            - operator: OR
              operands:
                - {objectType: SCIM_GROUP, lhs: idp-1, rhs: helpdesk}
                - {objectType: SAML, lhs: Department, rhs: IT}
      """
    And the device "ws1" from fixture "win-4.5-ad" with:
      | hostname         | ws1            |
      | primaryDnsSuffix | ws.example.com |
    And the device "kiosk1" from fixture "win-4.5-ad" with:
      | hostname         | kiosk1            |
      | primaryDnsSuffix | kiosk.example.com |
    And the device "lab1" from fixture "win-4.5-ad" with:
      | hostname         | lab1            |
      | primaryDnsSuffix | lab.example.com |

  @POL-3
  Scenario: APP_GROUP and APP in one OR condition: the segment group's device is reached
    Given the admin "helpdesk-01" logged in as "admin@example.com"
    When the lab starts
    And "helpdesk-01" connects to "ws1.ws.example.com:3389"
    Then the connection succeeds
    And the user activity record of the connection has:
      | rule   | Helpdesk or IT reach workstations and kiosks |
      | action | ALLOW                                        |

  @POL-3
  Scenario: APP_GROUP and APP in one OR condition: the named segment's device is reached too
    Given the admin "helpdesk-01" logged in as "admin@example.com"
    When the lab starts
    And "helpdesk-01" connects to "kiosk1.kiosk.example.com:3389"
    Then the connection succeeds
    And the user activity record of the connection has:
      | rule | Helpdesk or IT reach workstations and kiosks |

  @POL-3
  Scenario: A segment neither operand names is not matched, and the implicit block applies
    Given the admin "helpdesk-01" logged in as "admin@example.com"
    When the lab starts
    And "helpdesk-01" connects to "lab1.lab.example.com:3389"
    Then the connection is refused with "BRK_MT_SETUP_FAIL_NO_POLICY_FOUND"

  @POL-3 @POL-4
  Scenario: SAML next to SCIM_GROUP in one OR condition: the SAML attribute alone satisfies it
    Given the admin "audit-01" logged in as "auditor@example.com"
    When the lab starts
    And "audit-01" connects to "ws1.ws.example.com:3389"
    Then the connection succeeds
    And the user activity record of the connection has:
      | user | auditor@example.com                          |
      | rule | Helpdesk or IT reach workstations and kiosks |

  @POL-4
  Scenario: Attributes known to be absent match nothing: no group, no SAML attribute, implicit block
    Given the admin "guest-01" logged in as "guest@example.com"
    When the lab starts
    And "guest-01" connects to "ws1.ws.example.com:3389"
    Then the connection is refused with "BRK_MT_SETUP_FAIL_NO_POLICY_FOUND"

  @POL-4
  Scenario: A user the tenant does not describe: the rule needs the user's groups, so the broker will not decide
    Given the admin "stranger-01" logged in as "stranger@example.com"
    When the lab starts
    And "stranger-01" connects to "ws1.ws.example.com:3389"
    Then the connection is refused with "BRK_MT_SETUP_FAIL_POLICY_UNDECIDED"
    And the user activity record of the connection has:
      | rule           | Helpdesk or IT reach workstations and kiosks               |
      | action         | UNDECIDED                                                  |
      | undecided      | the user's SCIM groups (users[].groups) for SCIM_GROUP     |
      | internalReason | BRK_MT_SETUP_FAIL_POLICY_UNDECIDED                         |

  @POL-4
  Scenario Outline: A country DENY first: unknown country is undecided, a known one decides
    Given the tenant:
      """
      name: countries
      clientHostnameValidation: ['.*\.example\.com']
      users:
        - {name: admin@example.com, groups: [helpdesk]}
      applicationSegments:
        - {id: ws, name: Workstations, domainNames: ["*.ws.example.com"], tcpPortRange: [{from: 3389, to: 3389}]}
      rules:
        - name: No remote assistance from embargoed countries
          ruleOrder: "1"
          action: DENY
          conditions:
            - operands: [{objectType: COUNTRY_CODE, lhs: KP, rhs: "true"}, {objectType: COUNTRY_CODE, lhs: IR, rhs: "true"}]
        - name: Helpdesk
          ruleOrder: "2"
          action: ALLOW
          conditions:
            - operands: [{objectType: SCIM_GROUP, lhs: idp-1, rhs: helpdesk}]
      """
    And the device "ws2" from fixture "win-4.5-ad" with:
      | hostname         | ws2            |
      | primaryDnsSuffix | ws.example.com |
    And the admin "helpdesk-02" logged in as "admin@example.com" with:
      | <field> | <value> |
    When the lab starts
    And "helpdesk-02" connects to "ws2.ws.example.com:3389"
    Then the connection <outcome>
    And the user activity record of the connection has:
      | rule   | <rule>   |
      | action | <action> |

    Examples:
      | field    | value  | outcome                                                   | rule                                           | action    |
      | loggedIn | true   | is refused with "BRK_MT_SETUP_FAIL_POLICY_UNDECIDED"       | No remote assistance from embargoed countries  | UNDECIDED |
      | country  | IR     | is refused with "BRK_MT_SETUP_FAIL_REJECTED_BY_POLICY"     | No remote assistance from embargoed countries  | DENY      |
      | country  | DE     | succeeds                                                  | Helpdesk                                       | ALLOW     |

  @POL-4
  Scenario Outline: TRUSTED_NETWORK: on the network, off it, or not known
    Given the tenant:
      """
      name: trusted
      clientHostnameValidation: ['.*\.example\.com']
      implicitPolicy: block
      applicationSegments:
        - {id: ws, name: Workstations, domainNames: ["*.ws.example.com"], tcpPortRange: [{from: 3389, to: 3389}]}
      rules:
        - name: Only from the office network
          action: ALLOW
          conditions:
            - operands: [{objectType: TRUSTED_NETWORK, lhs: HQ-LAN, rhs: "true"}]
      """
    And the device "ws3" from fixture "win-4.5-ad" with:
      | hostname         | ws3            |
      | primaryDnsSuffix | ws.example.com |
    And the admin "helpdesk-03" logged in as "admin@example.com" with:
      | <field> | <value> |
    When the lab starts
    And "helpdesk-03" connects to "ws3.ws.example.com:3389"
    Then the connection <outcome>

    Examples:
      | field           | value    | outcome                                                |
      | trustedNetworks | [HQ-LAN] | succeeds                                               |
      | trustedNetworks | []       | is refused with "BRK_MT_SETUP_FAIL_NO_POLICY_FOUND"    |
      | loggedIn        | true     | is refused with "BRK_MT_SETUP_FAIL_POLICY_UNDECIDED"   |

  @POL-5
  Scenario Outline: REQUIRE_APPROVAL allows only with an approval in force for that user and segment
    Given the tenant:
      """
      name: approvals
      clientHostnameValidation: ['.*\.example\.com']
      implicitPolicy: block
      applicationSegments:
        - {id: ws, name: Workstations, domainNames: ["*.ws.example.com"], tcpPortRange: [{from: 3389, to: 3389}]}
        - {id: other, name: Other, domainNames: ["*.other.example.com"], tcpPortRange: [{from: 3389, to: 3389}]}
      rules:
        - name: Workstations need approval
          action: REQUIRE_APPROVAL
          conditions:
            - operands: [{objectType: APP, lhs: id, rhs: ws}]
      approvals:
        - id: "1001"
          emailIds: [approved@example.com]
          applications: [{id: ws}]
          startTime: "1577836800"
          endTime: "4102444800"
        - id: "1002"
          emailIds: [expired@example.com]
          applications: [{id: ws}]
          startTime: "2020-01-01T00:00:00Z"
          endTime: "2021-01-01T00:00:00Z"
        - id: "1003"
          emailIds: [elsewhere@example.com]
          applications: [{id: other}]
          startTime: "2020-01-01T00:00:00Z"
          endTime: "2100-01-01T00:00:00Z"
      """
    And the device "ws4" from fixture "win-4.5-ad" with:
      | hostname         | ws4            |
      | primaryDnsSuffix | ws.example.com |
    And the admin "admin-04" logged in as "<user>"
    When the lab starts
    And "admin-04" connects to "ws4.ws.example.com:3389"
    Then the connection <outcome>
    And the user activity record of the connection has:
      | rule | Workstations need approval |

    Examples:
      | user                  | outcome                                                   |
      | approved@example.com  | succeeds                                                  |
      | expired@example.com   | is refused with "BRK_MT_SETUP_FAIL_APPROVAL_REQUIRED"     |
      | elsewhere@example.com | is refused with "BRK_MT_SETUP_FAIL_APPROVAL_REQUIRED"     |

  @POL-4
  Scenario Outline: CLIENT_TYPE: a connection over the machine tunnel, no user logged in, is zpn_client_type_machine_tunnel
    Given the tenant:
      """
      name: client-types
      clientHostnameValidation: ['.*\.example\.com']
      implicitPolicy: block
      applicationSegments:
        - {id: ws, name: Workstations, domainNames: ["*.ws.example.com"], tcpPortRange: [{from: 3389, to: 3389}]}
      rules:
        - name: Machine tunnels only
          action: ALLOW
          conditions:
            - operands: [{objectType: CLIENT_TYPE, lhs: id, rhs: zpn_client_type_machine_tunnel}]
      """
    And the device "ws6" from fixture "win-4.5-ad" with:
      | hostname         | ws6            |
      | primaryDnsSuffix | ws.example.com |
    And the admin "kiosk-06" logged in as "kiosk@example.com" with:
      | machineTunnel | true       |
      | loggedIn      | <loggedIn> |
    When the lab starts
    And "kiosk-06" connects to "ws6.ws.example.com:3389"
    Then the connection <outcome>

    Examples:
      | loggedIn | outcome                                              |
      | false    | succeeds                                             |
      | true     | is refused with "BRK_MT_SETUP_FAIL_NO_POLICY_FOUND"  |
