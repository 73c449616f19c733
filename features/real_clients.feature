@EP
Feature: Real clients judge the fake services through the relay
  Tools nobody here wrote, run on the admin's machine against a local port
  its agent tunnels through the broker to the device, must recognise the
  fake RDP and SMB services as what they claim to be.

  Background:
    Given the tenant:
      """
      name: example
      clientHostnameValidation: ['.*\.example\.com']
      applicationSegments:
        - name: Workstations
          domainNames: ["*.example.com"]
          tcpPortRange: [{from: 3389, to: 3389}, {from: 445, to: 445}]
      """
    And the device "helpdesk-01" from fixture "admin-win-4.5" with:
      | services | [{kind: echo, port: 7}] |

  @EP-2
  Scenario: nmap's rdp-enum-encryption negotiates with the fake RDP service through the relay
    Given the device "ws1" from fixture "win-4.5-ad" with:
      | hostname         | ws1                                        |
      | primaryDnsSuffix | example.com                                |
      | services         | [{kind: rdp, port: 3389}]                  |
      | rdp              | {enabled: true, protocols: [ssl, hybrid]}  |
    And "helpdesk-01" forwards local port 3389 to "ws1.example.com:3389"
    When the lab starts
    Then nmap's "rdp-enum-encryption" script on "helpdesk-01" through its forward to "ws1.example.com:3389" reports "SSL: SUCCESS" and not "Native RDP: SUCCESS"

  @EP-2
  Scenario: nmap's smb-protocols identifies the fake SMB service's dialects through the relay
    Given the device "ws2" from fixture "win-4.5-ad" with:
      | hostname         | ws2                      |
      | primaryDnsSuffix | example.com              |
      | services         | [{kind: smb, port: 445}] |
      | smb              | {dialect: "3.0.2"}       |
    And "helpdesk-01" forwards local port 445 to "ws2.example.com:445"
    When the lab starts
    Then nmap's "smb-protocols" script on "helpdesk-01" through its forward to "ws2.example.com:445" reports "302" and not "311"

  # FreeRDP 2 (xfreerdp, with an Xvfb of its own: it opens an X display
  # even with /auth-only) must get past the X.224 negotiation and, where the profile
  # allows TLS or CredSSP, the TLS handshake, and then fail where the fake
  # stops: at the MCS Connect Initial or at CredSSP. Against a profile that
  # allows only Standard RDP Security it falls back by itself after each
  # RDP_NEG_FAILURE; asked for TLS only, it gets the failure and stops.
  @EP-2
  Scenario Outline: FreeRDP gets through the relay as far as the fake RDP service goes: <case>
    Given the device "ws3" from fixture "win-4.5-ad" with:
      | hostname         | ws3                                       |
      | primaryDnsSuffix | example.com                               |
      | services         | [{kind: rdp, port: 3389}]                 |
      | rdp              | {enabled: true, protocols: [<protocols>]} |
    And "helpdesk-01" forwards local port 3389 to "ws3.example.com:3389"
    When the lab starts
    And "helpdesk-01" runs xfreerdp "<options>" through its forward to "ws3.example.com:3389"
    Then FreeRDP's negotiation went "<negotiation>"
    And FreeRDP <tls>
    And FreeRDP gave up in state "<state>" with "<error>"

    Examples:
      | case                           | protocols   | options             | negotiation                                                                           | tls                                              | state       | error                                   |
      | TLS, then MCS                  | ssl, hybrid | /auth-only          | ssl+hybrid -> ssl                                                                     | completed TLS with the RDP service's certificate | MCS_CONNECT | ERRCONNECT_CONNECT_TRANSPORT_FAILED     |
      | CredSSP inside TLS             | hybrid      | /auth-only          | ssl+hybrid -> hybrid                                                                  | completed TLS with the RDP service's certificate | NLA         | ERRCONNECT_CONNECT_TRANSPORT_FAILED     |
      | standard security by fallback  | rdp         | /auth-only          | ssl+hybrid -> SSL_NOT_ALLOWED_BY_SERVER, ssl -> SSL_NOT_ALLOWED_BY_SERVER, rdp -> rdp | did not start TLS                                | MCS_CONNECT | ERRCONNECT_CONNECT_TRANSPORT_FAILED     |
      | TLS only, refused              | rdp         | /auth-only /sec:tls | ssl -> SSL_NOT_ALLOWED_BY_SERVER                                                      | did not start TLS                                | NEGO        | ERRCONNECT_SECURITY_NEGO_CONNECT_FAILED |
      | legacy request, no RDP_NEG_REQ | rdp         | /auth-only /sec:rdp | rdp -> no negotiation data                                                            | did not start TLS                                | MCS_CONNECT | ERRCONNECT_CONNECT_TRANSPORT_FAILED     |
