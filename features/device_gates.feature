@DEV
Feature: The destination device and its client connector
  Client-to-client needs a recent enough connector (Windows 3.9.0.169,
  Linux 1.4, macOS 3.7, compared part by part), a domain-joined Mac, a
  machine tunnel or a logged-in connector, and Private Access enabled.
  Hybrid- and Azure-joined Windows and Linux work when the FQDN is complete.

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

  Scenario Outline: <fixture> is reachable for client-to-client
    Given the device "dut" from fixture "<fixture>" with:
      | hostname         | dut-pc      |
      | primaryDnsSuffix | example.com |
    When the lab starts
    Then the user status of "dut" shows FQDNRegistered true with "FQDN_MATCH"
    And the user status of "dut" shows it available for client-to-client
    When "helpdesk-01" connects to "dut-pc.example.com:3389"
    Then the connection succeeds

    @DEV-1
    Examples: exactly the minimum connector version
      | fixture          |
      | win-3.9.0.169-ad |
      | linux-1.4        |

    @DEV-1 @DEV-2
    Examples: a domain-joined Mac at the minimum version
      | fixture    |
      | mac-3.7-ad |

    @DEV-3
    Examples: AD, hybrid and Azure AD joined Windows
      | fixture        |
      | win-4.5-ad     |
      | win-4.5-hybrid |
      | win-4.5-azure  |

    @DEV-4
    Examples: a machine tunnel and no logged-in user
      | fixture                     |
      | win-4.5-ad-tunnel-loggedout |

  @LOG-2
  Scenario Outline: <fixture> is enrolled but not available: <code>
    Given the device "dut" from fixture "<fixture>" with:
      | hostname         | dut-pc      |
      | primaryDnsSuffix | example.com |
    When the lab starts
    Then the user status of "dut" shows FQDNRegistered true with "FQDN_MATCH"
    And the user status of "dut" shows it unavailable with "<code>"
    When "helpdesk-01" connects to "dut-pc.example.com:3389"
    Then the connection is refused with "<code>"
    And the user activity record of the connection has:
      | internalReason | <code> |

    @DEV-1
    Examples: one step below the minimum version
      | fixture          | code                           |
      | win-3.9.0.168-ad | C2C_CLIENT_VERSION_UNSUPPORTED |
      | mac-3.6-ad       | C2C_CLIENT_VERSION_UNSUPPORTED |
      | linux-1.3        | C2C_CLIENT_VERSION_UNSUPPORTED |

    @DEV-2
    Examples: a Mac that is not domain-joined
      | fixture      | code                      |
      | mac-3.7-none | C2C_MAC_NOT_DOMAIN_JOINED |

    @DEV-4
    Examples: no machine tunnel and nobody logged in
      | fixture              | code              |
      | win-4.5-ad-loggedout | C2C_NOT_AVAILABLE |

  @DEV-1
  Scenario: Versions compare part by part, not as text
    Given the device "v310" from fixture "win-3.9.0.169-ad" with:
      | hostname         | v310        |
      | primaryDnsSuffix | example.com |
      | connectorVersion | 3.10        |
    And the device "v3999" from fixture "win-3.9.0.169-ad" with:
      | hostname         | v3999       |
      | primaryDnsSuffix | example.com |
      | connectorVersion | 3.9.0.99    |
    When the lab starts
    Then the user status of "v310" shows it available for client-to-client
    And the user status of "v3999" shows it unavailable with "C2C_CLIENT_VERSION_UNSUPPORTED"

  @DEV-5
  Scenario: A connector with Private Access disabled never connects, so it cannot be reached
    Given the device "dut" from fixture "win-4.5-pa-off" with:
      | hostname         | dut-pc      |
      | primaryDnsSuffix | example.com |
    When the lab starts
    Then "dut" is not connected to the broker
    When "helpdesk-01" connects to "dut-pc.example.com:3389"
    Then the connection is refused with "C2C_CLIENT_NOT_FOUND"

  @DEV-3 @HV-4
  Scenario: A hybrid-joined Windows device without a primary DNS suffix is not enrolled
    Given the device "dut" from fixture "win-4.5-hybrid" with:
      | hostname         | dut-pc |
      | primaryDnsSuffix | ""     |
    When the lab starts
    Then the user status of "dut" shows FQDNRegistered false with "FQDN_NO_MATCH"
