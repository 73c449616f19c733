package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/c2clab/c2clab/sim/tenant"
	"github.com/c2clab/c2clab/sim/zpaapi"
)

// pullFlags are tenant pull's own flags; credentials come from the
// environment (the SDKs' variable names) and may be overridden here, the
// secrets only from files so that they never show in a process list.
type pullFlags struct {
	flow, clientID, secretFile, keyFile, customerID, cloud, vanity, baseURL, tokenURL, save string
	// without are resources whose bodies are fetched (and saved) but not
	// imported, each said so in the report.
	without []string
}

func newTenantPullCmd() *cobra.Command {
	var f importFlags
	var p pullFlags
	cmd := &cobra.Command{
		Use:   "pull [TENANT_FILE] -o TENANT_FILE",
		Short: "Fetch a tenant through ZPA's API and write it as tenant import would",
		Long: `pull signs in to ZPA's API with an API client (the legacy ZPA API key, or a
ZIdentity OneAPI client), fetches every page of the endpoints import reads
(segments, segment and server groups, access rules, the objects operands
point at, approvals and client-to-client IP ranges; docs/ZPA_API.md lists
them), retrying on 429 as Retry-After says, and hands the bodies to the same
import: it writes the same tenant file and prints the same report.

ZPA's API has no endpoint for the client hostname validation regex, users or
expectations: give them in the optional TENANT_FILE, as for import.

Credentials come from the environment, under the names Zscaler's SDKs use:
  legacy:  ZPA_CLIENT_ID, ZPA_CLIENT_SECRET, ZPA_CUSTOMER_ID, ZPA_CLOUD
  OneAPI:  ZSCALER_CLIENT_ID, ZSCALER_CLIENT_SECRET (or ZSCALER_PRIVATE_KEY),
           ZSCALER_VANITY_DOMAIN, ZSCALER_CLOUD, ZPA_CUSTOMER_ID
  ZSCALER_USE_LEGACY_CLIENT=true chooses legacy when both are set.
Flags override them; secrets are read from files only. No credential or
token is ever printed, logged or written.

Exit codes: 0 written, 2 bad input, a failed sign-in or a failed request
(nothing is written).`,
		Example: `  ZPA_CLIENT_ID=... ZPA_CLIENT_SECRET=... ZPA_CUSTOMER_ID=... \
    c2clab tenant pull fixtures/zpa-import/helpdesk.yaml -o helpdesk.yaml --save helpdesk-bodies/ \
    --without approval   # approvals carry workingHours, which the lab refuses for now
  c2clab tenant pull --flow oneapi --vanity-domain acme --client-id ID --client-secret-file secret.txt \
    --customer-id 216199618143191040 -o acme.yaml`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.output == "" {
				return badInput(errors.New("tenant pull: -o is required: the tenant file to write (\"-\" for standard output)"))
			}
			cfg, err := p.config()
			if err != nil {
				return badInput(err)
			}
			cfg.Logf = func(format string, a ...any) {
				fmt.Fprintf(cmd.ErrOrStderr(), "pull: "+format+"\n", a...)
			}
			res, err := zpaapi.Pull(cmd.Context(), cfg)
			if err != nil {
				return badInput(fmt.Errorf("tenant pull: %w", err))
			}
			for _, s := range res.Skipped {
				fmt.Fprintf(cmd.ErrOrStderr(), "pull: skipped %s (%s): HTTP %d: %s\n", s.Resource, s.Endpoint, s.Status, s.Reason)
			}
			if p.save != "" {
				if err := zpaapi.WriteDir(p.save, res.Bodies); err != nil {
					return badInput(fmt.Errorf("tenant pull: --save: %w", err))
				}
			}
			bodies, err := leaveOut(res.Bodies, p.without, cmd.ErrOrStderr())
			if err != nil {
				return badInput(fmt.Errorf("tenant pull: %w", err))
			}
			srcs, err := pullSources(args, bodies)
			if err != nil {
				return badInput(fmt.Errorf("tenant pull: %w", err))
			}
			return runImport(cmd, f, srcs, nil)
		},
	}
	f.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&p.flow, "flow", "", "sign-in flow: legacy (ZPA API key) or oneapi (ZIdentity API client); default from the environment")
	fl.StringVar(&p.clientID, "client-id", "", "API client ID (overrides ZPA_CLIENT_ID / ZSCALER_CLIENT_ID)")
	fl.StringVar(&p.secretFile, "client-secret-file", "", "file holding the client secret (overrides ZPA_CLIENT_SECRET / ZSCALER_CLIENT_SECRET)")
	fl.StringVar(&p.keyFile, "private-key-file", "", "PEM private key of a OneAPI client, instead of a secret (overrides ZSCALER_PRIVATE_KEY)")
	fl.StringVar(&p.customerID, "customer-id", "", "ZPA customer (tenant) ID (overrides ZPA_CUSTOMER_ID)")
	fl.StringVar(&p.cloud, "cloud", "", "cloud: legacy PRODUCTION, BETA, ZPATWO, GOV, GOVUS, PREVIEW; OneAPI PRODUCTION, BETA, GOV, GOVUS, ...")
	fl.StringVar(&p.vanity, "vanity-domain", "", "ZIdentity vanity domain (OneAPI; overrides ZSCALER_VANITY_DOMAIN)")
	fl.StringVar(&p.baseURL, "base-url", "", "API base URL instead of the cloud's (a local replay server in tests)")
	fl.StringVar(&p.tokenURL, "token-url", "", "OneAPI token URL instead of the vanity domain's")
	fl.StringVar(&p.save, "save", "", "also write the bodies fetched to this new directory, as import reads them")
	fl.StringSliceVar(&p.without, "without", nil, "resources fetched but not imported, e.g. approval (whose workingHours the lab refuses); names as docs/ZPA_API.md lists them")
	return cmd
}

// config builds the API client's configuration: the environment first,
// then the flags.
func (p pullFlags) config() (zpaapi.Config, error) {
	cfg, _ := zpaapi.ConfigFromEnv(os.Getenv) // validated below, after the flags
	if cfg.CustomerID == "" {
		cfg.CustomerID = os.Getenv(zpaapi.EnvZPACustomerID) // with the client from flags
	}
	switch strings.ToLower(p.flow) {
	case "":
	case "legacy":
		cfg.Flow = zpaapi.FlowLegacy
	case "oneapi":
		cfg.Flow = zpaapi.FlowOneAPI
	default:
		return cfg, fmt.Errorf("tenant pull: --flow: is %q, want legacy or oneapi", p.flow)
	}
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&cfg.ClientID, p.clientID)
	set(&cfg.CustomerID, p.customerID)
	set(&cfg.Cloud, p.cloud)
	set(&cfg.VanityDomain, p.vanity)
	set(&cfg.BaseURL, p.baseURL)
	set(&cfg.TokenURL, p.tokenURL)
	if p.secretFile != "" {
		b, err := os.ReadFile(p.secretFile)
		if err != nil {
			return cfg, fmt.Errorf("tenant pull: --client-secret-file: %w", err)
		}
		cfg.ClientSecret = strings.TrimSpace(string(b))
	}
	if p.keyFile != "" {
		b, err := os.ReadFile(p.keyFile)
		if err != nil {
			return cfg, fmt.Errorf("tenant pull: --private-key-file: %w", err)
		}
		cfg.PrivateKey = b
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("tenant pull: %w", err)
	}
	return cfg, nil
}

// pullSources are the optional tenant file and the bodies pulled, named
// by the endpoint each came from.
func pullSources(args []string, bodies []zpaapi.Body) ([]tenant.Source, error) {
	var srcs []tenant.Source
	if len(args) == 1 {
		data, err := os.ReadFile(args[0])
		if err != nil {
			return nil, err
		}
		srcs = append(srcs, tenant.Source{Name: args[0], Data: data})
	}
	for _, b := range bodies {
		srcs = append(srcs, tenant.Source{Name: "GET " + b.Endpoint, Data: b.Data})
	}
	return srcs, nil
}

// leaveOut drops the bodies of the resources named, saying so; a name no
// resource has is an error.
func leaveOut(bodies []zpaapi.Body, names []string, w io.Writer) ([]zpaapi.Body, error) {
	for _, n := range names {
		if !slices.ContainsFunc(zpaapi.Resources, func(r zpaapi.Resource) bool { return r.Name == n }) {
			var all []string
			for _, r := range zpaapi.Resources {
				all = append(all, r.Name)
			}
			return nil, fmt.Errorf("--without: no resource %q; want one of %s", n, strings.Join(all, ", "))
		}
	}
	var out []zpaapi.Body
	for _, b := range bodies {
		if slices.Contains(names, b.Resource) {
			fmt.Fprintf(w, "pull: not imported (--without %s): GET %s\n", b.Resource, b.Endpoint)
			continue
		}
		out = append(out, b)
	}
	return out, nil
}
