@RA
Feature: Remote assistance: MSRA invitations and RDP shadowing
  For Microsoft Remote Assistance the invitation loses its LHTICKET and its
  RCTICKET names the novice's registered FQDN instead of IP addresses, so
  the expert's connection goes through ZPA. RDP shadowing needs Remote
  Desktop, the remote-control policy, two inbound firewall rules and, for
  policies 1 and 3, the user's consent. The shadow service and its failure
  names are the lab's model (docs/REMOTE_ASSISTANCE.md).

  Background:
    Given the tenant:
      """
      name: example
      clientHostnameValidation: ['desktop-[a-zA-Z0-9]{5}-AC\.example\.com']
      applicationSegments:
        - name: Remote assistance
          domainNames: ["*.example.com"]
          tcpPortRange: [{from: 3389, to: 3390}, {from: 49664, to: 49665}]
      """
    And the admin "helpdesk-01" logged in as "admin@example.com"

  @RA-1 @EP-2
  Scenario: A rewritten MSRA invitation leads the expert to the novice's MSRA listener through the relay
    Given the device "novice" from fixture "win-4.5-ad" with:
      | hostname | desktop-10B38-AC                                      |
      | services | [{kind: msra, port: 49664}, {kind: rdp, port: 3389}] |
    When the lab starts
    And the MSRA invitation "win10-ipv4.msrcincident" is rewritten for the registered FQDN of "novice"
    Then the rewritten invitation has no LHTICKET
    And the rewritten invitation's RCTICKET lists "desktop-10B38-AC.example.com:49664;desktop-10B38-AC.example.com:49665"
    When "helpdesk-01" connects to the first address of the rewritten invitation
    Then the connection succeeds
    And the MSRA service answers the expert's Connection Request selecting "ssl"
    And the user activity record of the connection has:
      | fqdn | desktop-10B38-AC.example.com |
      | port | 49664                        |

  @RA-1
  Scenario: An invitation saved by msra.exe (UTF-16, IPv6) is rewritten for the registered FQDN
    Given the device "novice" from fixture "win-4.5-ad" with:
      | hostname | desktop-20C49-AC |
    When the lab starts
    And the MSRA invitation "win11-utf16le.msrcincident" is rewritten for the registered FQDN of "novice"
    Then the rewritten invitation has no LHTICKET
    And the rewritten invitation's RCTICKET lists "desktop-20C49-AC.example.com:54606;desktop-20C49-AC.example.com:54607;desktop-20C49-AC.example.com:54607"

  @RA-2
  Scenario: query session lists the device's sessions through the relay
    Given the device "target" from fixture "win-4.5-ad" with:
      | hostname | desktop-30D50-AC |
      | services | [{kind: shadow, port: 3390}] |
      | rdp      | {enabled: true, shadowPolicy: 2, sessions: [{id: 1, user: bwong, name: console, state: Active}, {id: 3, user: ops, name: "rdp-tcp#7", state: Disc}]} |
    When the lab starts
    And "helpdesk-01" connects to "desktop-30D50-AC.example.com:3390"
    Then the connection succeeds
    When "helpdesk-01" queries the sessions of the device
    Then the session list shows session 1 of "bwong" as "Active"
    And the session list shows session 3 of "ops" as "Disc"

  @RA-2
  Scenario Outline: Shadow policy <policy> with the user answering "<consent>": <mode> <prompt> a consent prompt
    Given the device "target" from fixture "win-4.5-ad" with:
      | hostname | desktop-40E61-AC |
      | services | [{kind: shadow, port: 3390}] |
      | rdp      | {enabled: true, shadowPolicy: <policy>, consent: <consent>, sessions: [{id: 1, user: bwong, name: console, state: Active}]} |
    When the lab starts
    And "helpdesk-01" connects to "desktop-40E61-AC.example.com:3390"
    And "helpdesk-01" asks to <mode> session 1 <prompt> a consent prompt
    Then <outcome>

    Examples:
      | policy | consent | mode    | prompt   | outcome                                          |
      | 0      | accept  | control | allowing | the shadow request fails with "SHADOW_DISABLED"  |
      | 0      | accept  | view    | allowing | the shadow request fails with "SHADOW_DISABLED"  |
      | 1      | accept  | control | allowing | the shadow is granted for control                |
      | 1      | refuse  | control | allowing | the shadow request fails with "CONSENT_REFUSED"  |
      | 1      | timeout | control | allowing | the shadow request fails with "CONSENT_TIMEOUT"  |
      | 1      | accept  | control | without  | the shadow request fails with "CONSENT_REQUIRED" |
      | 2      | refuse  | control | allowing | the shadow is granted for control                |
      | 2      | refuse  | control | without  | the shadow is granted for control                |
      | 3      | accept  | view    | allowing | the shadow is granted for view                   |
      | 3      | refuse  | view    | allowing | the shadow request fails with "CONSENT_REFUSED"  |
      | 3      | accept  | control | allowing | the shadow request fails with "CONTROL_NOT_ALLOWED" |
      | 4      | refuse  | view    | allowing | the shadow is granted for view                   |
      | 4      | refuse  | view    | without  | the shadow is granted for view                   |
      | 4      | accept  | control | without  | the shadow request fails with "CONTROL_NOT_ALLOWED" |

  @RA-2
  Scenario Outline: Shadowing without <missing> fails with <failure>
    Given the device "target" from fixture "win-4.5-ad" with:
      | hostname | desktop-50F72-AC |
      | services | [{kind: shadow, port: 3390}] |
      | rdp      | <rdp>            |
      | firewall | <firewall>       |
    When the lab starts
    And "helpdesk-01" connects to "desktop-50F72-AC.example.com:3390"
    And "helpdesk-01" asks to control session <session>
    Then the shadow request fails with "<failure>"

    Examples:
      | missing                        | rdp                                                                                              | firewall                                                                                        | session | failure             |
      | Remote Desktop enabled         | {enabled: false, shadowPolicy: 2, sessions: [{id: 1, user: bwong, state: Active}]}               | {inboundRules: ["File and Printer Sharing (SMB-In)", "Remote Desktop - Shadow (TCP-In)"]}       | 1       | RDP_DISABLED        |
      | the SMB-In rule                | {enabled: true, shadowPolicy: 2, sessions: [{id: 1, user: bwong, state: Active}]}                | {inboundRules: ["Remote Desktop - Shadow (TCP-In)"]}                                            | 1       | SMB_IN_BLOCKED      |
      | the Shadow (TCP-In) rule       | {enabled: true, shadowPolicy: 2, sessions: [{id: 1, user: bwong, state: Active}]}                | {inboundRules: ["File and Printer Sharing (SMB-In)"]}                                           | 1       | SHADOW_RULE_BLOCKED |
      | a session with that ID         | {enabled: true, shadowPolicy: 2, sessions: [{id: 1, user: bwong, state: Active}]}                | {inboundRules: ["File and Printer Sharing (SMB-In)", "Remote Desktop - Shadow (TCP-In)"]}       | 2       | SESSION_NOT_FOUND   |
      | an active session              | {enabled: true, shadowPolicy: 2, sessions: [{id: 2, user: bwong, state: Disc}]}                  | {inboundRules: ["File and Printer Sharing (SMB-In)", "Remote Desktop - Shadow (TCP-In)"]}       | 2       | SESSION_NOT_ACTIVE  |
      | a shadow policy (default 1)    | {enabled: true, consent: refuse, sessions: [{id: 1, user: bwong, state: Active}]}                | {inboundRules: ["File and Printer Sharing (SMB-In)", "Remote Desktop - Shadow (TCP-In)"]}       | 1       | CONSENT_REFUSED     |

  @RA-2
  Scenario: Without the SMB-In rule query session fails
    Given the device "target" from fixture "win-4.5-ad" with:
      | hostname | desktop-60A83-AC |
      | services | [{kind: shadow, port: 3390}] |
      | firewall | {inboundRules: ["Remote Desktop - Shadow (TCP-In)"]} |
    When the lab starts
    And "helpdesk-01" connects to "desktop-60A83-AC.example.com:3390"
    And "helpdesk-01" queries the sessions of the device
    Then the shadow request fails with "SMB_IN_BLOCKED"
