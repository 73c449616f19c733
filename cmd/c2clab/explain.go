package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/c2clab/c2clab/sim/check"
	"github.com/c2clab/c2clab/sim/code"
	"github.com/c2clab/c2clab/sim/device"
	"github.com/c2clab/c2clab/sim/policy"
	"github.com/c2clab/c2clab/sim/tenant"
	"github.com/spf13/cobra"
)

type explainFlags struct {
	tenant, user, from, to, proto, at string
	devices                           []string
	json                              bool
}

func newExplainCmd() *cobra.Command {
	var f explainFlags
	cmd := &cobra.Command{
		Use:   "explain --tenant FILE --user NAME --device FILE... --to FQDN:PORT",
		Short: "Explain whether a user can reach a device on a port, and which regex, segment and rule decided",
		Long: `explain answers one "what if" for a tenant file: can --user, on the --from
device, reach --to while the --device files are registered? It registers each
device as its Client Connector would (hostname regex, FQDN, version, join
state, machine tunnel, login, Private Access), decides as the broker would
(segment, port, access rules, destination), adds what the agents on either end
do on their own (a port outside the segment is dropped at the source, SEG-4; a
destination firewall blocking its interface IP fails the forward, EP-1), and
prints the verdict with a numbered trace.

Device paths are relative to the current directory. Without --from, the
source is a logged-in Windows Client Connector 4.5 with no posture profiles
and nothing else known about it (trusted networks, country, machine group).

When an access rule needs something the question does not describe (a SAML
or SCIM attribute of a user not listed in users:, the device's country, ...)
and no earlier rule decided, the answer is UNDECIDED, naming the rule and the
attribute: the lab will not guess what ZPA decides. Add the attribute to the
users: entry or the --from device profile and ask again.

Exit codes: 0 allowed, 1 denied, 2 bad input (errors name file, line, field),
3 undecided.`,
		Example: `  # Helpdesk reaches the seed's example desktop under the strict regex:
  c2clab explain --tenant fixtures/tenants/strict.yaml \
      --user admin@example.com --from fixtures/devices/admin-win-4.5.yaml \
      --device fixtures/devices/win-3.9.0.169-ad.yaml \
      --to desktop-10B38-AC.example.com:3389

  # Why is a device without a primary DNS suffix not found? (JSON answer)
  c2clab explain --tenant fixtures/tenants/shared-namespace.yaml \
      --user admin@example.com --device fixtures/devices/win-4.5-ad-nosuffix.yaml \
      --to desktop-45NSF-AC.example.com:3389 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runExplain(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.tenant, "tenant", "", "tenant file (YAML or JSON), required")
	fl.StringVar(&f.user, "user", "", "ZPA user making the connection (default: the --from device's user)")
	fl.StringVar(&f.from, "from", "", "source device profile (default: a logged-in Windows Client Connector 4.5)")
	fl.StringArrayVar(&f.devices, "device", nil, "destination device profile to register first (repeatable)")
	fl.StringVar(&f.to, "to", "", "destination FQDN:PORT, required")
	fl.StringVar(&f.proto, "proto", "tcp", "protocol: tcp or udp")
	fl.StringVar(&f.at, "at", "", "when the connection is asked for, RFC 3339 (default: now); approvals must be in force then (POL-5)")
	fl.BoolVar(&f.json, "json", false, "print the answer as JSON")
	return cmd
}

func runExplain(cmd *cobra.Command, f explainFlags) error {
	q, t, err := explainQuestion(cmd.ErrOrStderr(), f)
	if err != nil {
		return badInput(err)
	}
	a, err := check.Explain(t.Policy(), q)
	if err != nil {
		return badInput(err)
	}
	out := cmd.OutOrStdout()
	if f.json {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(a); err != nil {
			return fmt.Errorf("explain: write answer: %w", err)
		}
	} else {
		printAnswer(out, a)
	}
	switch {
	case a.Verdict == policy.VerdictUndecided:
		return undecided(errors.New(""))
	case !a.Allowed:
		return failed(errors.New(""))
	}
	return nil
}

// explainQuestion loads the files the flags name; warnings go to errw.
func explainQuestion(errw io.Writer, f explainFlags) (check.Question, *tenant.Tenant, error) {
	var q check.Question
	if f.tenant == "" || f.to == "" {
		return q, nil, errors.New("explain: --tenant and --to are required; see c2clab explain --help")
	}
	t, warns, err := tenant.Load(f.tenant)
	printWarnings(errw, warns)
	if err != nil {
		return q, nil, err
	}
	if q.FQDN, q.Port, err = tenant.ParseTarget(f.to); err != nil {
		return q, nil, fmt.Errorf("explain: --to: %w", err)
	}
	q.User, q.Proto, q.Time = f.user, f.proto, time.Now()
	if f.at != "" {
		if q.Time, err = time.Parse(time.RFC3339, f.at); err != nil {
			return q, nil, fmt.Errorf("explain: --at %q: want an RFC 3339 time such as 2026-12-01T10:00:00Z", f.at)
		}
	}
	if f.from != "" {
		if q.From, err = device.Load(f.from); err != nil {
			return q, nil, fmt.Errorf("explain: --from: %w", err)
		}
	}
	for _, p := range f.devices {
		d, err := device.Load(p)
		if err != nil {
			return q, nil, fmt.Errorf("explain: --device: %w", err)
		}
		q.Devices = append(q.Devices, d)
	}
	if q.User == "" && (q.From == nil || q.From.User == "") {
		return q, nil, errors.New("explain: --user is required when --from names no user")
	}
	return q, t, nil
}

// printWarnings prints those that can change a decision first.
func printWarnings(w io.Writer, warns []tenant.Warning) {
	for _, x := range tenant.DecisionsFirst(warns) {
		fmt.Fprintln(w, "warning:", x)
	}
}

// printAnswer writes the answer for a person: verdict, the deciding
// objects, then the numbered trace.
func printAnswer(w io.Writer, a check.Answer) {
	if u := a.Undecided; a.Verdict == policy.VerdictUndecided && u != nil {
		who := fmt.Sprintf("access rule %q", u.Rule)
		if u.Rule == "" {
			who = "the segment" // bypassType ON_NET (SEG-8)
		}
		fmt.Fprintf(w, "UNDECIDED %s\n  %s needs %s (%s), which the question does not describe\n", a.Code, who, u.Attribute, u.ObjectType)
	} else if a.Allowed {
		fmt.Fprintln(w, "ALLOWED")
	} else {
		fmt.Fprintf(w, "DENIED %s\n", a.Code)
		if i, ok := code.Lookup(a.Code); ok {
			fmt.Fprintf(w, "  %s\n", i.Meaning)
		}
	}
	fmt.Fprintf(w, "  %s on %s -> %s:%d/%s\n\n", a.User, a.Source, a.FQDN, a.Port, a.Proto)
	row := func(k, v string) { fmt.Fprintf(w, "%-13s %s\n", k+":", v) }
	row("access type", orNone(string(a.AccessType)))
	if s := a.Segment; s != nil {
		state := "enabled"
		if !s.Enabled {
			state = "disabled"
		}
		row("segment", fmt.Sprintf("%s (id %s), %s", s.Name, s.ID, state))
	} else {
		row("segment", "none covers the name")
	}
	if r := a.Rule; r != nil {
		row("rule", fmt.Sprintf("%s (id %s), order %d, %s", r.Name, r.ID, r.Order, r.Action))
	} else {
		row("rule", "none decided")
	}
	row("destination", destinationLine(a))
	if a.PolicyAllowed != a.Allowed {
		row("policy", "allowed by the broker; an agent stops it (see trace)")
	}
	fmt.Fprintln(w, "\ntrace:")
	for i, l := range a.Trace {
		fmt.Fprintf(w, "%3d. %s\n", i+1, l)
	}
}

func destinationLine(a check.Answer) string {
	d := a.Destination
	if d == nil {
		return "no registered device reports " + a.FQDN
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s, FQDNRegistered %t (%s), ", d.Device, d.FQDNRegistered, d.FQDNRegisteredError)
	if d.Available {
		b.WriteString("available")
	} else {
		fmt.Fprintf(&b, "not available (%s)", d.Code)
	}
	return b.String()
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
