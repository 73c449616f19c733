package msra

import (
	"errors"
	"fmt"
)

// ErrInvalid is what every invitation error matches with errors.Is.
var ErrInvalid = errors.New("invalid MSRA invitation")

// FieldError is an invalid invitation: which field, and what was expected.
type FieldError struct {
	// Line is the 1-based line of the file the field is on; 0 if unknown.
	Line int
	// Field names the attribute or part, e.g. "RCTICKET field 1",
	// "DtLength", "UPLOADINFO".
	Field string
	// Detail says what the field is and what would be accepted.
	Detail string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Detail }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

func fieldErr(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Detail: fmt.Sprintf(format, args...)}
}

// atLine sets the line of err when it is a *FieldError without one.
func atLine(err error, line int) error {
	var fe *FieldError
	if errors.As(err, &fe) && fe.Line == 0 {
		fe.Line = line
	}
	return err
}
