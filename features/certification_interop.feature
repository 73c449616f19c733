@CERT @CERT-2
Feature: A connector wrong the same way on both ends carries nothing to the reference agent
  A data path that is wrong the same way on both ends (another exporter
  label, swapped key halves, another frame header) relays without a flaw
  between two copies of itself, so a certification that only put the
  agent under test on both ends of each connection certified it. Here a
  broken agent of the certification self-test
  (cmd/c2clab/testdata/brokenagents) carries real connections through the
  real broker in the three pairings `c2clab certify` runs
  (docs/CERTIFICATION.md section 4): to itself the echo comes back intact;
  with the reference agent on either end the connection is set up, then
  its relay fails after setup as docs/PROTOCOL.md section 7.1 says, with
  no code recorded and no byte delivered, so every profile scenario that
  moves bytes fails in T->R and R->T and the agent is not certified.

  Scenario Outline: The broken agent "<agent>" relays to itself and to no reference agent, either way
    Given the agent under test is the broken agent "<agent>"
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
    # T->T: wrong the same way on both ends, so nothing shows.
    When "helpdesk-01" connects to "desk.example.com:7"
    Then the connection succeeds
    And 1 MiB echoed through the connection come back intact
    And the user activity record of the connection has:
      | status         | Closed               |
      | destination    | desk                 |
      | internalReason | MT_CLOSED_TERMINATED |
    # T->R: the reference destination cannot open the first frame.
    When "helpdesk-01" connects to "desk-ref.example.com:7"
    Then the connection succeeds
    And no byte echoed through the connection comes back, the client sees a reset, and the agent of "desk-ref" logged "relay failed: a frame is not authentic" for it
    And the user activity record of the connection has:
      | status         | Closed               |
      | destination    | desk-ref             |
      | internalReason | MT_CLOSED_TERMINATED |
    # R->T: the broken destination cannot open the reference's first frame.
    When "helpdesk-ref" connects to "desk.example.com:7"
    Then the connection succeeds
    And no byte echoed through the connection comes back, the client sees a reset, and the agent of "desk" logged "relay failed: a frame is not authentic" for it
    And the user activity record of the connection has:
      | status         | Closed               |
      | destination    | desk                 |
      | internalReason | MT_CLOSED_TERMINATED |

    Examples:
      | agent                |
      | other-exporter-label |
      | swapped-key-halves   |
      | length-first-header  |
