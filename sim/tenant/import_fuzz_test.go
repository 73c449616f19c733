package tenant

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"testing/fstest"

	"github.com/c2clab/c2clab/sim/configfile"
)

// fuzzBase is the tenant file FuzzImport gives beside the fuzzed body.
const fuzzBase = "name: fuzz\nclientHostnameValidation: ['.*\\.example\\.com']\n" +
	"applicationSegments: [{id: \"216199618143191130\", name: Desktops, domainNames: [\"*.example.com\"], tcpPortRanges: [\"3389\", \"3389\"], segmentGroupId: \"216199618143191100\"}]\n"

// FuzzImport feeds tenant import any body beside a fixed tenant file,
// seeded with every body of fixtures/zpa (real shapes, see
// fixtures/README.md). It checks:
//
//   - every error names one of the two sources (or the import itself),
//     with a line where it names a field;
//
//   - the same input gives the same result;
//
//   - an accepted import wrote a file that loads to the same policy
//     (Import checks this itself and fails otherwise), one the policy
//     engine accepts, with valid domains and ports.
//
//     go test -run '^$' -fuzz '^FuzzImport$' -fuzztime 30s ./sim/tenant
func FuzzImport(f *testing.F) {
	seeds, _ := filepath.Glob("../../fixtures/zpa/*/*.json")
	for _, p := range seeds {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{appA, ruleR, scimPage, "[" + appA + "]", "{\"totalPages\": 0}", "{\"list\": null}", "[]", "null", "{}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		srcs := []Source{{Name: "base.yaml", Data: []byte(fuzzBase)}, {Name: "body.json", Data: body}}
		opts := ImportOptions{FS: fstest.MapFS{}}
		im, err := Import(srcs, opts)
		checkImportErrors(t, err)
		im2, err2 := Import(srcs, opts)
		if errText(err) != errText(err2) || (im == nil) != (im2 == nil) || im != nil && !reflect.DeepEqual(im.File, im2.File) {
			t.Fatalf("same input, different results:\n%v\n%v", err, err2)
		}
		if err != nil {
			return
		}
		if _, err := im.Tenant.Engine(); err != nil {
			t.Fatalf("import accepted a tenant the policy engine refuses: %v", err)
		}
		checkTenantValues(t, im.Tenant)
	})
}

func checkImportErrors(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, e := range leafErrors(err) {
		var ce *configfile.Error
		switch {
		case !errors.As(e, &ce):
			t.Fatalf("error %q is not a *configfile.Error", e)
		case ce.File != "base.yaml" && ce.File != "body.json" && ce.File != "tenant import":
			t.Fatalf("error %q names neither source", e)
		case ce.Msg == "" || ce.File != "tenant import" && ce.Field != "" && ce.Line <= 0:
			t.Fatalf("error %+v does not name its line", ce)
		case fmtMistake(ce.Msg):
			t.Fatalf("error %q has a formatting mistake", e)
		}
	}
}
