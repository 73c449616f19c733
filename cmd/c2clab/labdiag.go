package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/c2clab/c2clab/sim/broker"
	"github.com/c2clab/c2clab/sim/lab"
)

// newLabUsersCmd and newLabActivityCmd read a running lab's broker
// diagnostics, the User Status and User Activity views of ZPA.
func newLabUsersCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "users [RUN_ID]",
		Short: "Show the broker's User Status: each session, FQDNRegistered, Valid Hostname, availability",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			admin, err := pickAdmin(args)
			if err != nil {
				return err
			}
			st, err := admin.UserStatus(cmd.Context())
			if err != nil {
				return failed(err)
			}
			if asJSON {
				return writeJSONOut(cmd.OutOrStdout(), st)
			}
			return writeUserStatus(cmd.OutOrStdout(), st)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the admin API's JSON")
	return cmd
}

func newLabActivityCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "activity [RUN_ID]",
		Short: "Show the broker's User Activity log: every connection, its rule, status code and bytes",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			admin, err := pickAdmin(args)
			if err != nil {
				return err
			}
			acts, err := admin.Activity(cmd.Context())
			if err != nil {
				return failed(err)
			}
			if asJSON {
				return writeJSONOut(cmd.OutOrStdout(), acts)
			}
			return writeActivity(cmd.OutOrStdout(), acts)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the admin API's JSON")
	return cmd
}

// pickAdmin finds the named run, or the only live one.
func pickAdmin(args []string) (lab.Admin, error) {
	runs, err := lab.Runs("")
	if err != nil {
		return lab.Admin{}, err
	}
	var live []lab.Run
	for _, r := range runs {
		if len(args) == 1 && r.ID == args[0] {
			return r.Admin()
		}
		if r.Live {
			live = append(live, r)
		}
	}
	switch {
	case len(args) == 1:
		return lab.Admin{}, badInput(fmt.Errorf("no run %q on this machine (c2clab lab status lists them)", args[0]))
	case len(live) == 1:
		return live[0].Admin()
	case len(live) == 0:
		return lab.Admin{}, failed(errors.New("no live lab on this machine; start one with c2clab lab up"))
	}
	ids := make([]string, len(live))
	for i, r := range live {
		ids[i] = r.ID
	}
	return lab.Admin{}, badInput(fmt.Errorf("%d live labs (%s): name one", len(live), strings.Join(ids, ", ")))
}

func writeJSONOut(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func writeUserStatus(w io.Writer, st []broker.UserStatus) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DEVICE\tUSER\tFQDN\tFQDNRegistered\tFQDNRegisteredError\tVALID HOSTNAME\tC2C ENROLLED\tAVAILABLE\tCODE\tCONNECTED")
	for _, s := range st {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%t\t%s\t%t\t%t\t%t\t%s\t%t\n", s.Device, s.User, s.FQDN, s.FQDNRegistered,
			s.FQDNRegisteredError, s.ValidHostname, s.ClientToClientEnrolled, s.Available, s.Code, s.Connected)
	}
	return tw.Flush()
}

func writeActivity(w io.Writer, acts []broker.Activity) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "START\tACCESS TYPE\tUSER\tSOURCE\tDESTINATION\tFQDN:PORT\tSEGMENT\tRULE\tACTION\tSTATUS\tCODE\tBYTES IN/OUT")
	for _, a := range acts {
		start := time.UnixMicro(a.StartUs).Format("15:04:05.000000")
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s:%d\t%s\t%s\t%s\t%s\t%s\t%d/%d\n", start, a.AccessType, a.User, a.Source,
			a.Destination, a.FQDN, a.Port, a.Segment, a.Rule, a.Action, a.Status, a.Code, a.BytesFromClient, a.BytesToClient)
	}
	return tw.Flush()
}
