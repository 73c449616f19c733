@IMP
Feature: A tenant pulled through ZPA's API decides in the real lab as the imported one
  `c2clab tenant pull` hands the bodies it fetched to the same import as
  `c2clab tenant import` (IMP-3). Here the API is a loopback server
  replaying fixtures/zpa/helpdesk; the tenant made of what the pull fetched
  (with fixtures/zpa-import/helpdesk.yaml's regex and users) runs in the lab,
  and the outcome is the one tenant_import.feature expects of the saved
  bodies: rule 3's segment group operand lets helpdesk reach a desktop of
  the pattern segment (help.zscaler.com/zpa/configuring-access-policies-using-api).

  @IMP-3 @IMP-1
  Scenario Outline: Helpdesk reaches the pattern desktop through a tenant pulled with a <client> API client
    Given a ZPA API replaying "fixtures/zpa/helpdesk"
    When the tenant is pulled with the <client> API client
    Then the pull succeeds
    Given the tenant that "c2clab tenant import" makes of "zpa-import/helpdesk.yaml" and the pulled bodies, leaving out "approval.page-1.json"
    And the device "desk1" from fixture "win-4.5-ad" with:
      | hostname | desktop-HDK01-AC |
    And the admin "helpdesk-01" logged in as "helpdesk@example.com" with:
      | country | DE |
    When the lab starts
    And "helpdesk-01" connects to "desktop-HDK01-AC.example.com:3389"
    Then the connection succeeds
    And the user activity record of the connection has:
      | rule   | Helpdesk RDP to desktops |
      | action | ALLOW                    |

    Examples:
      | client |
      | legacy |
      | OneAPI |
