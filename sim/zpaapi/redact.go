package zpaapi

import (
	"errors"
	"fmt"
	"strings"
)

// redactor removes secrets from text before it reaches an error or a log:
// the client ID and secret, the private key and every token issued.
// Go's errors carry URLs, and a server's error body may echo what it was
// sent, so every message leaving this package passes through it.
type redactor struct {
	secrets []string
}

const redacted = "[redacted]"

// add registers s; strings shorter than 4 bytes would blank innocent text
// and are too short to be a credential anyway.
func (r *redactor) add(s string) {
	s = strings.TrimSpace(s)
	if len(s) < 4 {
		return
	}
	r.secrets = append(r.secrets, s)
}

func (r *redactor) clean(s string) string {
	for _, sec := range r.secrets {
		s = strings.ReplaceAll(s, sec, redacted)
	}
	return s
}

// redactedError keeps the chain for errors.Is and errors.As while its text
// is cleaned.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

func (r *redactor) wrap(err error) error {
	if err == nil {
		return nil
	}
	var re *redactedError
	if errors.As(err, &re) && re.msg == r.clean(err.Error()) {
		return err
	}
	return &redactedError{msg: r.clean(err.Error()), err: err}
}

func (r *redactor) logf(logf func(string, ...any), format string, args ...any) {
	if logf == nil {
		return
	}
	logf("%s", r.clean(fmt.Sprintf(format, args...)))
}
