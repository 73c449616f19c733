package steps

import (
	"context"
	"fmt"
	"strings"

	"github.com/cucumber/godog"

	"github.com/c2clab/c2clab/sim/report"
)

// note prints a figure measured or a code seen under the running step and
// keeps it as evidence: the after-step hook attaches it to the step in the
// Cucumber JSON, where reports (and certification) find it.
func note(ctx context.Context, format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	w := getWorld(ctx)
	fmt.Fprint(w.out, indent(strings.TrimRight(line, "\n")))
	w.scenario.evidence = append(w.scenario.evidence, strings.TrimRight(line, "\n"))
}

// attachEvidence moves the step's notes into an attachment.
func attachEvidence(ctx context.Context) context.Context {
	w := getWorld(ctx)
	if len(w.scenario.evidence) == 0 {
		return ctx
	}
	body := strings.Join(w.scenario.evidence, "\n")
	w.scenario.evidence = nil
	return godog.Attach(ctx, godog.Attachment{FileName: report.EvidenceAttachment, MediaType: "text/plain", Body: []byte(body)})
}
