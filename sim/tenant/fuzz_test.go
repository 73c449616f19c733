package tenant

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that no input makes Parse panic, and that a tenant that
// loads converts to a policy config. Device files are faked so that a random
// input never reads a file.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("../../fixtures/tenants/*.*")
	broken, _ := filepath.Glob("../../fixtures/tenants/broken/*.yaml")
	for _, p := range append(seeds, broken...) {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(head + "applicationSegments: [{name: a, domainNames: ['*.x'], tcpPortRanges: ['1']}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ten, _, err := parse("fuzz.yaml", data, fakeFiles)
		if err == nil {
			_ = ten.Policy()
		}
	})
}
