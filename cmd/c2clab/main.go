// Command c2clab is the client-to-client remote-assistance lab: it explains
// and checks tenant policy, starts labs of brokers and agents, runs the
// conformance suite, benchmarks the relay and certifies third-party agents.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// Exit codes, the contract scripts rely on.
const (
	exitOK       = 0 // allowed, passed
	exitFailed   = 1 // denied, failed
	exitBadInput = 2 // the input could not be used
	// exitUndecided: explain cannot say, because an access rule needs an
	// attribute of the user or device the question does not describe (POL-4).
	exitUndecided = 3
)

// exitError carries the exit code a command wants.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// badInput marks err as the user's input being unusable (exit 2).
func badInput(err error) error { return &exitError{exitBadInput, err} }

// failed marks err as a negative answer or a failed run (exit 1).
func failed(err error) error { return &exitError{exitFailed, err} }

// undecided marks an undecided answer (exit 3).
func undecided(err error) error { return &exitError{exitUndecided, err} }

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int { return runTo(args, os.Stdout, os.Stderr) }

// runTo runs the CLI with its output and errors going to stdout and
// stderr: a test running several commands at once keeps each one's apart.
func runTo(args []string, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil && ee.err.Error() != "" {
			fmt.Fprintln(stderr, "c2clab:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "c2clab:", err)
	// cobra's own errors (unknown flag, wrong argument count) are bad input.
	return exitBadInput
}
