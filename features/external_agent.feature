@NET @NET-4
Feature: A third-party connector stands in for the reference agent
  The lab starts any program that meets docs/PROTOCOL.md section 12 as the
  agent, on the admin's side and on the devices. Here that program is the
  reference agent built on its own (cmd/c2clab-agent), exactly as a vendor
  ships theirs; `c2clab certify --agent-cmd` runs the whole certification
  profile this way (docs/CERTIFICATION.md), and `go test ./cmd/c2clab`
  proves that certification fails deliberately broken agents on exactly
  the requirements they break.

  Scenario: An external agent program registers, relays and reports on both ends
    Given every agent is the program built from "./cmd/c2clab-agent"
    And the tenant:
      """
      name: example
      clientHostnameValidation: ['.*\.example\.com']
      applicationSegments:
        - name: Workstations
          domainNames: ["*.example.com"]
          tcpPortRange: [{from: 7, to: 7}]
      """
    And the admin "helpdesk-01" logged in as "admin@example.com"
    And the device "desk" from fixture "win-4.5-ad" with:
      | hostname         | desk                    |
      | primaryDnsSuffix | example.com             |
      | services         | [{kind: echo, port: 7}] |
    When the lab starts
    Then every agent node runs that program
    And the agent of "desk" shows "desk.example.com" as Client
    When "helpdesk-01" connects to "desk.example.com:7"
    Then the connection succeeds
    And 1 MiB echoed through the connection come back intact

  Scenario: An agent image stands in on the container backend
    On the container backend a vendor may ship the agent as an image; the
    lab runs its entrypoint with the same arguments. Elsewhere this skips.
    Given every agent is a container of an image of the program built from "./cmd/c2clab-agent"
    And the tenant:
      """
      name: example
      clientHostnameValidation: ['.*\.example\.com']
      applicationSegments:
        - name: Workstations
          domainNames: ["*.example.com"]
          tcpPortRange: [{from: 7, to: 7}]
      """
    And the admin "helpdesk-01" logged in as "admin@example.com"
    And the device "desk" from fixture "win-4.5-ad" with:
      | hostname         | desk                    |
      | primaryDnsSuffix | example.com             |
      | services         | [{kind: echo, port: 7}] |
    When the lab starts
    Then every agent node runs that image
    And the agent of "desk" shows "desk.example.com" as Client
    When "helpdesk-01" connects to "desk.example.com:7"
    Then the connection succeeds
    And 1 MiB echoed through the connection come back intact

  @CERT-1
  Scenario: The external agent program and the reference agent carry connections to each other, both ways
    How `c2clab certify` pairs the agent under test with the reference
    agent (docs/CERTIFICATION.md section 4): the pairing puts the reference
    agent on chosen machines and the external program everywhere else.
    Given every agent is the program built from "./cmd/c2clab-agent"
    And the tenant:
      """
      name: example
      clientHostnameValidation: ['.*\.example\.com']
      applicationSegments:
        - name: Workstations
          domainNames: ["*.example.com"]
          tcpPortRange: [{from: 7, to: 7}]
      """
    And the admin "helpdesk-01" logged in as "admin@example.com"
    And the admin "helpdesk-ref" logged in as "admin@example.com"
    And the device "desk" from fixture "win-4.5-ad" with:
      | hostname         | desk                    |
      | primaryDnsSuffix | example.com             |
      | services         | [{kind: echo, port: 7}] |
    And the device "desk-ref" from fixture "win-4.5-ad" with:
      | hostname         | desk-ref                |
      | primaryDnsSuffix | example.com             |
      | services         | [{kind: echo, port: 7}] |
    And "helpdesk-ref" runs the reference agent
    And "desk-ref" runs the reference agent
    When the lab starts
    Then the agent of "helpdesk-01" runs that program
    And the agent of "desk" runs that program
    And the agent of "helpdesk-ref" runs the reference agent
    And the agent of "desk-ref" runs the reference agent
    When "helpdesk-01" connects to "desk-ref.example.com:7"
    Then the connection succeeds
    And 1 MiB echoed through the connection come back intact
    When "helpdesk-ref" connects to "desk.example.com:7"
    Then the connection succeeds
    And 1 MiB echoed through the connection come back intact

  @CERT-1
  Scenario: An agent image and the reference agent carry connections to each other, both ways, on the container backend
    The same pairing with a vendor's image (`c2clab certify --agent-image`):
    the reference agent's machines run the lab's own image. Elsewhere this
    skips.
    Given every agent is a container of an image of the program built from "./cmd/c2clab-agent"
    And the tenant:
      """
      name: example
      clientHostnameValidation: ['.*\.example\.com']
      applicationSegments:
        - name: Workstations
          domainNames: ["*.example.com"]
          tcpPortRange: [{from: 7, to: 7}]
      """
    And the admin "helpdesk-01" logged in as "admin@example.com"
    And the admin "helpdesk-ref" logged in as "admin@example.com"
    And the device "desk" from fixture "win-4.5-ad" with:
      | hostname         | desk                    |
      | primaryDnsSuffix | example.com             |
      | services         | [{kind: echo, port: 7}] |
    And the device "desk-ref" from fixture "win-4.5-ad" with:
      | hostname         | desk-ref                |
      | primaryDnsSuffix | example.com             |
      | services         | [{kind: echo, port: 7}] |
    And "helpdesk-ref" runs the reference agent
    And "desk-ref" runs the reference agent
    When the lab starts
    Then the agent of "helpdesk-01" runs that image
    And the agent of "desk" runs that image
    And the agent of "helpdesk-ref" runs the reference agent
    And the agent of "desk-ref" runs the reference agent
    When "helpdesk-01" connects to "desk-ref.example.com:7"
    Then the connection succeeds
    And 1 MiB echoed through the connection come back intact
    When "helpdesk-ref" connects to "desk.example.com:7"
    Then the connection succeeds
    And 1 MiB echoed through the connection come back intact
