@SEG
Feature: Multimatch, pattern domains and bypass types of application segments
  Multimatch (help.zscaler.com/unified/using-application-segment-multimatch):
  "Exact match is the default behavior": when two segments cover a name the
  request maps to the more specific one, and a port it lacks is not carried
  (App_Seg1 *.example.com, App_Seg2 server1.example.com TCP 443, 3389);
  "Multimatch allows an application request to match multiple application
  segments" (matchStyle INCLUSIVE), so a wildcard segment carries a port the
  more specific one lacks. The lab's reading where the page's tables could
  not be retrieved (documented default, docs/TENANT.md): the most specific
  INCLUSIVE segment that includes the port is chosen; EXCLUSIVE segments
  never take part in a Multimatch.
  Pattern domains (SEG-7): '?' is one character and '*' any run inside one
  label; the lab ranks an exact FQDN over a pattern over a wildcard domain
  (documented default: ZPA's pattern-matching page could not be retrieved).
  bypassType (SEG-8; the ZPA API's NEVER, ALWAYS, ON_NET): ALWAYS is never
  carried by ZPA, ON_NET is bypassed while the source is on a trusted
  network; NEVER is the default. A bypassed connection goes direct, so
  there is no client-to-client through it: the source agent stops it with
  CLT_SEGMENT_BYPASSED and nothing reaches the broker.

  Background:
    Given the tenant:
      """
      name: multimatch
      clientHostnameValidation: ['.*\.example\.com']
      applicationSegments:
        - {id: seg1, name: App_Seg1, matchStyle: INCLUSIVE, domainNames: ["*.example.com"], tcpPortRange: [{from: 1, to: 52}, {from: 54, to: 65535}]}
        - {id: seg2, name: App_Seg2, matchStyle: INCLUSIVE, domainNames: ["server1.example.com"], tcpPortRange: [{from: 443, to: 443}, {from: 3389, to: 3389}]}
        - {id: seg3, name: Exclusive kiosk, domainNames: ["kiosk1.example.com"], tcpPortRange: [{from: 3389, to: 3389}]}
        - {id: desk, name: Desktops, domainNames: ["desktop-?????-AC.corp.example.com"], tcpPortRange: [{from: 3389, to: 3389}]}
        - {id: corp, name: Corp wildcard, domainNames: ["*.corp.example.com"], tcpPortRange: [{from: 445, to: 445}]}
        - {id: direct, name: Direct, bypassType: ALWAYS, domainNames: ["*.direct.example.com"], tcpPortRange: [{from: 3389, to: 3389}]}
        - {id: office, name: Office, bypassType: ON_NET, domainNames: ["*.office.example.com"], tcpPortRange: [{from: 3389, to: 3389}]}
      """
    And the device "server1" from fixture "win-4.5-ad" with:
      | hostname         | server1                                                 |
      | primaryDnsSuffix | example.com                                             |
      | services         | [{kind: rdp, port: 3389}, {kind: smb, port: 445}]       |
    And the device "kiosk1" from fixture "win-4.5-ad" with:
      | hostname         | kiosk1                                                  |
      | primaryDnsSuffix | example.com                                             |
      | services         | [{kind: rdp, port: 3389}, {kind: smb, port: 445}]       |

  @SEG-6
  Scenario: INCLUSIVE: the wildcard segment carries a port the more specific segment lacks
    Given the admin "helpdesk-01" logged in as "admin@example.com"
    When the lab starts
    And "helpdesk-01" connects to "server1.example.com:445"
    Then the connection succeeds
    And the user activity record of the connection has:
      | segment | App_Seg1 |

  @SEG-6
  Scenario: INCLUSIVE: the more specific segment when it has the port
    Given the admin "helpdesk-01" logged in as "admin@example.com"
    When the lab starts
    And "helpdesk-01" connects to "server1.example.com:3389"
    Then the connection succeeds
    And the user activity record of the connection has:
      | segment | App_Seg2 |

  @SEG-6 @SEG-4
  Scenario: EXCLUSIVE (the default): the most specific segment's ports only, dropped at the source
    Given the admin "helpdesk-01" logged in as "admin@example.com"
    When the lab starts
    And "helpdesk-01" connects to "kiosk1.example.com:445"
    Then the connection is dropped locally with "CLT_PORT_NOT_IN_SEGMENT"

  @SEG-7
  Scenario Outline: A pattern domain with '?' beats the wildcard for names it matches
    Given the device "<device>" from fixture "win-4.5-ad" with:
      | hostname         | <device>         |
      | primaryDnsSuffix | corp.example.com |
    And the admin "helpdesk-02" logged in as "admin@example.com"
    When the lab starts
    And "helpdesk-02" connects to "<device>.corp.example.com:3389"
    Then the connection <outcome>

    Examples:
      | device            | outcome                                               |
      | desktop-10B38-AC  | succeeds                                              |
      | desktop-10B38X-AC | is dropped locally with "CLT_PORT_NOT_IN_SEGMENT"     |

  @SEG-8
  Scenario: bypassType ALWAYS: never carried, the source sends it direct
    Given the device "pc1" from fixture "win-4.5-ad" with:
      | hostname         | pc1                |
      | primaryDnsSuffix | direct.example.com |
    And the admin "helpdesk-03" logged in as "admin@example.com"
    When the lab starts
    And "helpdesk-03" connects to "pc1.direct.example.com:3389"
    Then the connection is dropped locally with "CLT_SEGMENT_BYPASSED"

  @SEG-8
  Scenario Outline: bypassType ON_NET: bypassed on a trusted network, carried off it, undecided when not known
    Given the device "pc2" from fixture "win-4.5-ad" with:
      | hostname         | pc2                |
      | primaryDnsSuffix | office.example.com |
    And the admin "helpdesk-04" logged in as "admin@example.com" with:
      | <field> | <value> |
    When the lab starts
    And "helpdesk-04" connects to "pc2.office.example.com:3389"
    Then the connection <outcome>

    Examples:
      | field           | value    | outcome                                                 |
      | trustedNetworks | [HQ-LAN] | is dropped locally with "CLT_SEGMENT_BYPASSED"          |
      | trustedNetworks | []       | succeeds                                                |
      | loggedIn        | true     | is refused with "BRK_MT_SETUP_FAIL_POLICY_UNDECIDED"    |

  @SEG-9
  Scenario: Client IP assignment: each enrolled device gets an address from c2cIpRanges, reached through the segment covering it
    Given the tenant:
      """
      name: client-ips
      clientHostnameValidation: ['.*\.example\.com']
      c2cIpRanges: [{id: "1", name: C2C, subnetCidr: 100.64.240.0/24, ipRangeBegin: 100.64.240.0, ipRangeEnd: 100.64.240.255}]
      applicationSegments:
        - {id: names, name: Workstations, domainNames: ["*.ws.example.com"], tcpPortRange: [{from: 3389, to: 3389}]}
        - {id: ips, name: Workstation IPs, domainNames: ["100.64.240.0/24"], tcpPortRange: [{from: 3389, to: 3389}]}
      """
    And the device "ws5" from fixture "win-4.5-ad" with:
      | hostname         | ws5            |
      | primaryDnsSuffix | ws.example.com |
    And the admin "helpdesk-05" logged in as "admin@example.com"
    When the lab starts
    Then the user status of "ws5" shows a client IP in "100.64.240.0/24"
    When "helpdesk-05" connects to the client IP of "ws5" on port 3389
    Then the connection succeeds
    And the user activity record of the connection has:
      | segment    | Workstation IPs  |
      | accessType | Client to Client |
      | destination | ws5             |
