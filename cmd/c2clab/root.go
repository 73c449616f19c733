package main

import "github.com/spf13/cobra"

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "c2clab",
		Short: "Client-to-client remote-assistance lab for ZPA-style brokers and connectors",
		Long: `c2clab simulates Zscaler Private Access client-to-client connectivity: an
admin's connector reaches an end user's device (RDP, MSRA, psexec) through a
broker, gated by the client hostname regex, application segments and access
policies. It runs real broker and agent processes in network namespaces,
containers or on loopback and proves with Gherkin scenarios what gets through.

Exit codes: 0 ok/allowed, 1 failed/denied, 2 bad input.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(
		newExplainCmd(),
		newCheckCmd(),
		newLabCmd(),
		newTestCmd(),
		newCertifyCmd(),
		newNodeCmd(),
		newCodesCmd(),
		newVersionCmd(),
		newMSRACmd(),
		newBenchCmd(),
		newImageCmd(),
		newReadyCmd(),
		newTenantCmd(),
	)
	return root
}
