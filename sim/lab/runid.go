package lab

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
)

// RunIDPrefix starts every run ID; `c2clab lab down --all` sweeps what
// carries it.
const RunIDPrefix = "c2c"

var runIDRE = regexp.MustCompile(`^c2c[0-9a-f]{6}$`)

// NewRunID returns "c2c" followed by 6 random lowercase hex characters.
func NewRunID() (string, error) {
	var b [3]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("new run id: %w", err)
	}
	return RunIDPrefix + hex.EncodeToString(b[:]), nil
}

// ValidRunID reports whether s has the form NewRunID returns.
func ValidRunID(s string) bool { return runIDRE.MatchString(s) }
