package main

import "testing"

// A topology whose links are impaired must not run silently unimpaired on
// a backend that cannot shape them.
func TestLabUpRefusesImpairedLinksItCannotShape(t *testing.T) {
	if got := run([]string{"lab", "up", "../../topologies/two-sites-wan.yaml"}); got != exitBadInput {
		t.Fatalf("exit %d, want %d (bad input)", got, exitBadInput)
	}
	if got := run([]string{"lab", "up"}); got != exitBadInput {
		t.Fatalf("lab up with neither topology nor tenant: exit %d, want %d", got, exitBadInput)
	}
}
