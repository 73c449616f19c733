@IMP
Feature: A real tenant's saved ZPA API bodies, imported, decide in the lab as ZPA documents
  An admin saves what ZPA's API returns (pages of GET /application and of
  GET /policySet/rules/policyType/ACCESS_POLICY, segment and server
  groups, and the objects operands point at: SCIM groups and attributes,
  SAML attributes, IdPs, posture profiles, trusted networks, machine
  groups), and `c2clab tenant import` makes one tenant file of them (IMP-1).
  The bodies are fixtures/zpa/helpdesk (shapes from Zscaler's SDK
  cassettes, fixtures/README.md); the lab's own parts (regex, users,
  implicit block) are fixtures/zpa-import/helpdesk.yaml. The rules come
  from two pages; the users name SCIM groups and SAML attributes by name,
  the rules by id, and the imported objects join them.
  Expected outcomes follow ZPA's documentation: rules in order, first match
  decides, the access policy ends in an implicit block
  (help.zscaler.com/zpa/about-access-policy); APP and APP_GROUP, SCIM_GROUP
  and SAML operands in one OR condition are ORed
  (help.zscaler.com/zpa/configuring-access-policies-using-api); "Allow
  with Privileged Approval" allows only with an approval in force.
  An incomplete set is refused, naming what is missing (IMP-2).

  Background:
    Given the tenant that "c2clab tenant import" makes of "zpa-import/helpdesk.yaml" and the bodies in "zpa/helpdesk", leaving out "approval.page-1.json"
    And the device "desk1" from fixture "win-4.5-ad" with:
      | hostname | desktop-HDK01-AC |
    And the device "laptop1" from fixture "win-4.5-ad-laptop"

  @IMP-1 @POL-3
  Scenario: Helpdesk reaches a desktop of the pattern segment through the segment group operand of rule 3 (page 1)
    Given the admin "helpdesk-01" logged in as "helpdesk@example.com" with:
      | country | DE |
    When the lab starts
    And "helpdesk-01" connects to "desktop-HDK01-AC.example.com:3389"
    Then the connection succeeds
    And the user activity record of the connection has:
      | rule   | Helpdesk RDP to desktops |
      | action | ALLOW                    |

  @IMP-1
  Scenario: The country DENY comes first (rule 1): helpdesk from an embargoed country is refused
    Given the admin "helpdesk-02" logged in as "helpdesk@example.com" with:
      | country | KP |
    When the lab starts
    And "helpdesk-02" connects to "desktop-HDK01-AC.example.com:3389"
    Then the connection is refused with "BRK_MT_SETUP_FAIL_REJECTED_BY_POLICY"
    And the user activity record of the connection has:
      | rule   | Deny helpdesk from embargoed countries |
      | action | DENY                                   |

  @IMP-1 @POL-4
  Scenario: A SAML attribute named as the imported SAML attribute body names it satisfies rule 3's OR
    Given the admin "support-01" logged in as "itsupport@example.com" with:
      | country | DE |
    When the lab starts
    And "support-01" connects to "desktop-HDK01-AC.example.com:3389"
    Then the connection succeeds
    And the user activity record of the connection has:
      | user | itsupport@example.com    |
      | rule | Helpdesk RDP to desktops |

  @IMP-1 @POL-5
  Scenario: A contractor, by the imported SCIM group's name, needs an approval for the Helpdesk Desktops segment (rule 2)
    Given the admin "contractor-01" logged in as "contractor@example.com" with:
      | country | DE |
    When the lab starts
    And "contractor-01" connects to "laptop-4711.example.com:3389"
    Then the connection is refused with "BRK_MT_SETUP_FAIL_APPROVAL_REQUIRED"
    And the user activity record of the connection has:
      | rule | Contractors need approval |

  @IMP-1 @POL-4
  Scenario: Nobody said where the source connects from: the country rule cannot be decided
    Given the admin "helpdesk-03" logged in as "helpdesk@example.com"
    When the lab starts
    And "helpdesk-03" connects to "desktop-HDK01-AC.example.com:3389"
    Then the connection is refused with "BRK_MT_SETUP_FAIL_POLICY_UNDECIDED"
    And the user activity record of the connection has:
      | rule   | Deny helpdesk from embargoed countries |
      | action | UNDECIDED                              |

  @IMP-2
  Scenario: Page 1 of 2 of the segments and of the rules is refused, naming the pages missing
    Then "c2clab tenant import" of "zpa/incomplete-pages" fails with:
      """
      zpa/incomplete-pages/application.page-1.json:2: totalPages: is 2, but 1 page(s) of application segments are given: give every page of GET /mgmtconfig/v1/admin/customers/{customerId}/application (page=1 to 2)
      zpa/incomplete-pages/rules.ACCESS_POLICY.page-1.json:2: totalPages: is 2, but 1 page(s) of access rules are given: give every page of GET /mgmtconfig/v1/admin/customers/{customerId}/policySet/rules/policyType/ACCESS_POLICY (page=1 to 2)
      """

  @IMP-2
  Scenario: The policy set body, which ZPA returns without rules, is refused, saying where the rules come from
    Then "c2clab tenant import" of "zpa/policyset-only" fails with:
      """
      zpa/policyset-only/policySet.ACCESS_POLICY.json:1: is the access policy set (GET /mgmtconfig/v1/admin/customers/{customerId}/policySet/policyType/ACCESS_POLICY), which ZPA returns without its rules: the rules come from GET /mgmtconfig/v1/admin/customers/{customerId}/policySet/rules/policyType/ACCESS_POLICY (every page)
      """

  @IMP-2
  Scenario: A rule naming a segment the pages lack is refused
    Then "c2clab tenant import" of "zpa/dangling-segment" fails with:
      """
      zpa/dangling-segment/rules.ACCESS_POLICY.page-1.json:37: list[0].conditions[0].operands[0].rhs: segment "216199618143191130" does not exist
      """

  @IMP-2
  Scenario: A rule naming a SCIM group the SCIM group pages lack is refused
    Then "c2clab tenant import" of "zpa/dangling-scim-group" fails with:
      """
      zpa/dangling-scim-group/rules.ACCESS_POLICY.page-1.json:59: list[0].conditions[1].operands[0].rhs: SCIM_GROUP "4100003" is not among the 2 given (scimGroups): give every page of GET /userconfig/v1/customers/{customerId}/scimgroup/idpId/{idpId}
      """
