// Package features embeds the Gherkin feature files, one per capability,
// every scenario tagged with the REQUIREMENTS.md IDs it proves, so the
// c2clab binary carries its own conformance suite.
package features

import "embed"

// FS holds every *.feature file of this directory.
//
//go:embed *.feature
var FS embed.FS

// Requirements is the requirements catalogue (a copy of the project's
// REQUIREMENTS.md), so reports can list every requirement, also those no
// scenario proves.
//
//go:embed requirements.md
var Requirements []byte
