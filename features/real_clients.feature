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
