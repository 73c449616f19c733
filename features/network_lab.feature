@NET @NET-1
Feature: Broker and agents run as separate processes in network namespaces
  On the netns backend every machine (the broker, each device, each app
  server and App Connector) is a network namespace attached to the run's
  CNI bridge network by the real bridge and host-local plugins; on the
  container backend it is a Docker container on the run's network. Every
  node (the broker, each agent, each device's services) is its own
  process. The checks read /proc, not the lab's own records. On loopback
  there are no namespaces, and these scenarios skip.

  Scenario: Each machine has a network stack of its own, and each node is a process of its own
    Given the lab runs its machines in network namespaces
    And the tenant:
      """
      name: example
      clientHostnameValidation: ['.*\.example\.com']
      applicationSegments:
        - name: Workstations
          domainNames: ["*.example.com"]
          tcpPortRange: [{from: 3389, to: 3389}]
      """
    And the admin "helpdesk-01" logged in as "admin@example.com"
    And the device "desk-1" from fixture "win-4.5-ad" with:
      | hostname         | desk-1      |
      | primaryDnsSuffix | example.com |
    And the device "desk-2" from fixture "win-4.5-hybrid" with:
      | hostname         | desk-2      |
      | primaryDnsSuffix | example.com |
    When the lab starts
    Then every node runs as a process of its own, each machine in a network namespace of its own
    And every device's interface IP is in the lab range "198.18.0.0/15"
    When "helpdesk-01" connects to "desk-2.example.com:3389"
    Then the connection succeeds
    And the RDP service answers with a Connection Confirm selecting "ssl"
