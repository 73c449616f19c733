package steps

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/cucumber/godog"

	"github.com/c2clab/c2clab/sim/tenant"
)

// registerImport registers the steps of features/tenant_import.feature
// (IMP-1, IMP-2): the tenant a scenario runs is the one `c2clab tenant
// import` makes of saved ZPA API bodies, through the same tenant.Import.
func registerImport(sc *godog.ScenarioContext) {
	sc.Step(`^the tenant that "c2clab tenant import" makes of "([^"]+)" and the bodies in "([^"]+)"(?:, leaving out "([^"]+)")?$`, theImportedTenant)
	sc.Step(`^"c2clab tenant import" of "([^"]+)" fails with:$`, importFails)
	sc.Step(`^the tenant that "c2clab tenant import" makes of "([^"]+)" and the pulled bodies(?:, leaving out "([^"]+)")?$`, theImportedPulledTenant)
}

// importSources reads fixture paths: a file, or a directory standing for
// its *.json files; leave names files of a directory to leave out.
func importSources(fsys fs.FS, paths []string, leave string) ([]tenant.Source, error) {
	var out []tenant.Source
	for _, p := range paths {
		p = strings.TrimPrefix(p, "fixtures/")
		files := []string{p}
		if st, err := fs.Stat(fsys, p); err == nil && st.IsDir() {
			files = nil
			entries, err := fs.ReadDir(fsys, p)
			if err != nil {
				return nil, err
			}
			for _, e := range entries {
				if !e.IsDir() && strings.HasSuffix(e.Name(), ".json") && e.Name() != leave {
					files = append(files, path.Join(p, e.Name()))
				}
			}
		}
		for _, f := range files {
			data, err := fs.ReadFile(fsys, f)
			if err != nil {
				return nil, fmt.Errorf("fixture %q: %w", f, err)
			}
			out = append(out, tenant.Source{Name: f, Data: data})
		}
	}
	return out, nil
}

func theImportedTenant(ctx context.Context, base, bodies, leave string) error {
	w := getWorld(ctx)
	srcs, err := importSources(w.cfg.Fixtures, []string{base, bodies}, leave)
	if err != nil {
		return err
	}
	im, err := tenant.Import(srcs, tenant.ImportOptions{Output: "imported.yaml", FS: w.cfg.Fixtures})
	if err != nil {
		return fmt.Errorf("tenant import: %w", err)
	}
	return w.addTenant(im.Tenant)
}

// importFails: the import is refused, and its error has every line of
// want (each a part of one error line: file:line: field: message).
func importFails(ctx context.Context, dir string, want *godog.DocString) error {
	w := getWorld(ctx)
	srcs, err := importSources(w.cfg.Fixtures, []string{dir}, "")
	if err != nil {
		return err
	}
	im, err := tenant.Import(srcs, tenant.ImportOptions{Output: "imported.yaml", FS: w.cfg.Fixtures})
	if err == nil {
		return fmt.Errorf("the import of %q succeeded with %d segments and %d rules; want it refused", dir, len(im.Tenant.Segments), len(im.Tenant.Rules))
	}
	var errs []error
	for _, line := range strings.Split(strings.TrimSpace(want.Content), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.Contains(err.Error(), line) {
			errs = append(errs, fmt.Errorf("the error lacks %q", line))
		}
	}
	if len(errs) > 0 {
		errs = append(errs, fmt.Errorf("the error was:\n%w", err))
	}
	return errors.Join(errs...)
}

// theImportedPulledTenant is theImportedTenant over the bodies the
// scenario's `tenant pull` wrote (IMP-3 through the lab).
func theImportedPulledTenant(ctx context.Context, base, leave string) error {
	w := getWorld(ctx)
	dir, err := pulledDir(ctx)
	if err != nil {
		return err
	}
	srcs, err := importSources(w.cfg.Fixtures, []string{base}, "")
	if err != nil {
		return err
	}
	pulled, err := importSources(os.DirFS(dir), []string{"."}, leave)
	if err != nil {
		return err
	}
	im, err := tenant.Import(append(srcs, pulled...), tenant.ImportOptions{Output: "pulled.yaml", FS: w.cfg.Fixtures})
	if err != nil {
		return fmt.Errorf("tenant import of the pulled bodies: %w", err)
	}
	return w.addTenant(im.Tenant)
}
