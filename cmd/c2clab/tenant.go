package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/c2clab/c2clab/sim/tenant"
)

func newTenantCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tenant",
		Short: "Make tenant files from a real ZPA tenant: saved API responses (import) or its API (pull)",
		Long: `tenant makes a tenant file (docs/TENANT.md) from what ZPA's API says about a
real tenant: "import" reads response bodies an admin saved, "pull" fetches the
same endpoints with the admin's API credentials. Both write the same file and
print the same report: what was taken, what was ignored, and whether each
ignored field can change a decision.`,
	}
	cmd.AddCommand(newTenantImportCmd(), newTenantPullCmd())
	return cmd
}

// importFlags are the flags import and pull share.
type importFlags struct {
	output  string
	name    string
	asJSON  bool
	verbose bool
}

func (f *importFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&f.output, "output", "o", "", `tenant file to write ("-" for standard output, the report then goes to standard error); required`)
	cmd.Flags().StringVar(&f.name, "name", "", "tenant name when no tenant file among the inputs gives one (default: the output file's name)")
	cmd.Flags().BoolVar(&f.asJSON, "json", false, "print the report as JSON")
	cmd.Flags().BoolVarP(&f.verbose, "verbose", "v", false, "say why each ignored field cannot change a decision")
}

func newTenantImportCmd() *cobra.Command {
	var f importFlags
	cmd := &cobra.Command{
		Use:   "import FILE|DIR... -o TENANT_FILE",
		Short: "Make a tenant file from saved ZPA API response bodies",
		Long: `import reads saved ZPA API response bodies (JSON, exactly as the API returned
them) and writes one tenant file. Each body is recognized by its shape, never
by its file name: pages of GET /application ({totalPages, totalCount, list}) or
one GET /application/{id}; segment groups; server groups; pages of
GET /policySet/rules/policyType/ACCESS_POLICY or one
GET /policySet/{id}/rule/{ruleId}, with v1 (lhs/rhs) or v2 (values,
entryValues) operands; and the objects operands point at: SCIM groups, SCIM
attributes, SAML attributes, IdPs, posture profiles, trusted networks, machine
groups, so that ids show as names. A directory stands for its *.json, *.yaml
and *.yml files.

At most one input may be a tenant file with the lab's own parts (name,
clientHostnameValidation, implicitPolicy, users, tests, ...): they are kept as
written, device paths made relative to the output.

An incomplete set is an error, never a smaller tenant: totalPages larger than
the pages given, a rule naming a segment, group or object the bodies lack, a
segment group listing a segment no page gives, or the access policy set body
(GET /policySet/policyType/ACCESS_POLICY) without the rules pages, since ZPA
returns it without rules. Errors name the body's file, line and field.

The report lists each input as recognized, then the warnings (those that can
change a decision first), then every ignored field with why it cannot change
a decision. The file written is loaded again and must decide as the bodies do.

Exit codes: 0 written, 2 bad input (nothing is written).`,
		Example: `  c2clab tenant import fixtures/zpa-import/helpdesk.yaml fixtures/zpa/helpdesk -o helpdesk.yaml
  c2clab check helpdesk.yaml`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.output == "" {
				return badInput(errors.New("tenant import: -o is required: the tenant file to write (\"-\" for standard output)"))
			}
			srcs, skipped, err := readSources(args)
			if err != nil {
				return badInput(fmt.Errorf("tenant import: %w", err))
			}
			return runImport(cmd, f, srcs, skipped)
		},
	}
	f.register(cmd)
	return cmd
}

// runImport imports srcs, writes the tenant file and prints the report;
// pull ends here too, so that both write the same.
func runImport(cmd *cobra.Command, f importFlags, srcs []tenant.Source, skipped []string) error {
	im, err := tenant.Import(srcs, tenant.ImportOptions{Output: f.output, Name: f.name})
	if err != nil {
		return badInput(err)
	}
	rep := cmd.OutOrStdout()
	if f.output == "-" {
		rep = cmd.ErrOrStderr()
		if _, err := cmd.OutOrStdout().Write(im.File); err != nil {
			return fmt.Errorf("tenant: write: %w", err)
		}
	} else if err := os.WriteFile(f.output, im.File, 0o644); err != nil {
		return badInput(fmt.Errorf("tenant: write %q: %w", f.output, err))
	}
	if f.asJSON {
		return writeImportJSON(rep, f.output, im, skipped)
	}
	printImport(rep, f.output, im, skipped, f.verbose)
	return nil
}

// readSources reads the files named, a directory standing for its JSON
// and YAML files (sorted); skipped are the other files of directories.
func readSources(args []string) (srcs []tenant.Source, skipped []string, err error) {
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, nil, err
		}
		files := []string{a}
		if st.IsDir() {
			files = nil
			entries, err := os.ReadDir(a)
			if err != nil {
				return nil, nil, err
			}
			for _, e := range entries {
				p := filepath.Join(a, e.Name())
				switch ext := strings.ToLower(filepath.Ext(e.Name())); {
				case e.IsDir():
				case ext == ".json" || ext == ".yaml" || ext == ".yml":
					files = append(files, p)
				default:
					skipped = append(skipped, p)
				}
			}
			if len(files) == 0 {
				return nil, nil, fmt.Errorf("directory %q has no .json, .yaml or .yml file", a)
			}
		}
		for _, p := range files {
			data, err := os.ReadFile(p)
			if err != nil {
				return nil, nil, err
			}
			srcs = append(srcs, tenant.Source{Name: p, Data: data})
		}
	}
	return srcs, skipped, nil
}

func printImport(w io.Writer, output string, im *tenant.Imported, skipped []string, verbose bool) {
	t := im.Tenant
	fmt.Fprintf(w, "wrote %s: %d segments, %d rules, %d segment groups, %d server groups, %d objects operands point at\n",
		output, len(t.Segments), len(t.Rules), len(t.SegmentGroups), len(t.ServerGroups), len(t.Objects))
	fmt.Fprintln(w, "taken:")
	for _, s := range im.Sources {
		fmt.Fprintf(w, "  %s: %s\n", s.Name, s.What)
	}
	for _, s := range skipped {
		fmt.Fprintf(w, "  %s: skipped (not .json, .yaml or .yml)\n", s)
	}
	warns := tenant.DecisionsFirst(im.Warnings)
	if n := countDecisions(warns); n > 0 {
		fmt.Fprintf(w, "can change a decision (%d):\n", n)
	}
	for _, x := range warns {
		if !x.NoDecision {
			fmt.Fprintf(w, "  warning: %s\n", x)
		}
	}
	fmt.Fprintln(w, "ignored, cannot change a decision:")
	var kinds []string
	byKind := map[string][]tenant.IgnoredField{}
	for _, g := range im.Ignored {
		if g.CanChange {
			continue
		}
		if byKind[g.Kind] == nil {
			kinds = append(kinds, g.Kind)
		}
		byKind[g.Kind] = append(byKind[g.Kind], g)
	}
	for _, k := range kinds {
		if !verbose {
			names := make([]string, len(byKind[k]))
			for i, g := range byKind[k] {
				names[i] = g.Name
			}
			fmt.Fprintf(w, "  %s: %s\n", k, strings.Join(names, ", "))
			continue
		}
		for _, g := range byKind[k] {
			fmt.Fprintf(w, "  %s %s (%d×, first %s:%d): %s\n", k, g.Name, g.Count, g.File, g.Line, g.Why)
		}
	}
	if !verbose && len(kinds) > 0 {
		fmt.Fprintln(w, "  (-v says why each cannot change a decision)")
	}
	for _, x := range warns {
		if x.NoDecision && !strings.Contains(x.Msg, "the lab ignores, none of which can change a decision") {
			fmt.Fprintf(w, "  note: %s\n", x)
		}
	}
}

func countDecisions(ws []tenant.Warning) int {
	return len(ws) - len(slices.DeleteFunc(slices.Clone(ws), func(w tenant.Warning) bool { return !w.NoDecision }))
}

// importJSON is the --json report.
type importJSON struct {
	Output   string                `json:"output"`
	Segments int                   `json:"segments"`
	Rules    int                   `json:"rules"`
	Objects  int                   `json:"objects"`
	Sources  []tenant.SourceReport `json:"sources"`
	Skipped  []string              `json:"skipped"`
	Warnings []importWarning       `json:"warnings"`
	Ignored  []tenant.IgnoredField `json:"ignored"`
}

type importWarning struct {
	Text              string `json:"text"`
	CanChangeDecision bool   `json:"canChangeDecision"`
}

func writeImportJSON(w io.Writer, output string, im *tenant.Imported, skipped []string) error {
	r := importJSON{Output: output, Segments: len(im.Tenant.Segments), Rules: len(im.Tenant.Rules), Objects: len(im.Tenant.Objects),
		Sources: im.Sources, Skipped: append([]string{}, skipped...), Ignored: im.Ignored}
	for _, x := range tenant.DecisionsFirst(im.Warnings) {
		r.Warnings = append(r.Warnings, importWarning{x.String(), !x.NoDecision})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("tenant: write report: %w", err)
	}
	return nil
}
