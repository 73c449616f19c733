package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/c2clab/c2clab/sim/msra"
)

func newMSRACmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "msra",
		Short: "Work with Microsoft Remote Assistance invitations (.msrcincident)",
		Long: `msra prepares Microsoft Remote Assistance invitations for client-to-client
access (requirement RA-1). See docs/REMOTE_ASSISTANCE.md.`,
	}
	cmd.AddCommand(newMSRARewriteCmd())
	return cmd
}

func newMSRARewriteCmd() *cobra.Command {
	var hostname, out string
	cmd := &cobra.Command{
		Use:   "rewrite FILE --hostname FQDN [-o OUT]",
		Short: "Make an MSRA invitation reach the novice by its registered FQDN",
		Long: `rewrite reads an invitation file that msra.exe saved (UTF-16 or UTF-8) and,
as ZPA's client-to-client guide asks:

  - removes the LHTICKET attribute;
  - replaces every IP address in RCTICKET's address list (field 3 of
    "65538,1,HOST:PORT;HOST:PORT,*,SESSIONID,*,*,BLOB") with --hostname,
    the FQDN the device registered with ZPA, keeping each port.
    Entries that are already names are kept.

Every other byte stays as it was: encoding, attribute order, quoting,
whitespace, other attributes. The invitation is checked first; a broken one
is refused with the file, line, field and what was expected, e.g.
  invite.msrcincident:1: RCTICKET field 1: is "65537", want 65538

The rewritten invitation goes to stdout, or to OUT with -o.

Exit codes: 0 rewritten, 2 bad input (unreadable or invalid file, bad --hostname).`,
		Example: `  c2clab msra rewrite fixtures/msra/win10-ipv4.msrcincident \
      --hostname desktop-10B38-AC.example.com -o invite-c2c.msrcincident
  # RCTICKET="65538,1,192.168.1.100:49664;10.10.4.23:49665,..." becomes
  # RCTICKET="65538,1,desktop-10B38-AC.example.com:49664;desktop-10B38-AC.example.com:49665,..."`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if hostname == "" {
				return badInput(errors.New("msra rewrite: --hostname is required: the device's registered FQDN"))
			}
			data, err := os.ReadFile(args[0])
			if err != nil {
				return badInput(fmt.Errorf("msra rewrite: %w", err))
			}
			res, err := msra.Rewrite(data, hostname)
			if err != nil {
				return badInput(fileErr(args[0], err))
			}
			if out == "" || out == "-" {
				_, err = cmd.OutOrStdout().Write(res)
				return err
			}
			return writeFileAtomic(out, res)
		},
	}
	cmd.Flags().StringVar(&hostname, "hostname", "", "the device's registered FQDN, e.g. desktop-10B38-AC.example.com (required)")
	cmd.Flags().StringVarP(&out, "output", "o", "", "write the rewritten invitation here instead of stdout")
	return cmd
}

// fileErr prefixes an invitation error with FILE:LINE: where the line is known.
func fileErr(file string, err error) error {
	var fe *msra.FieldError
	if errors.As(err, &fe) && fe.Line > 0 {
		return fmt.Errorf("%s:%d: %w", file, fe.Line, err)
	}
	if errors.As(err, &fe) && fe.Field == "hostname" {
		return fmt.Errorf("--%w", err)
	}
	return fmt.Errorf("%s: %w", file, err)
}

// writeFileAtomic writes data to a temporary file beside path and renames
// it, so a reader never sees half an invitation.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".msra-*")
	if err != nil {
		return badInput(fmt.Errorf("msra rewrite: %w", err))
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("msra rewrite: write %q: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("msra rewrite: write %q: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("msra rewrite: %w", err)
	}
	return os.Rename(tmp.Name(), path)
}
