package lab

import (
	"errors"
	"testing"
)

func TestInterceptNeedsNetns(t *testing.T) {
	tests := []struct {
		backend   string
		intercept bool
		want      error
	}{
		{"", true, ErrInterceptNeedsNetns},
		{BackendLocal, true, ErrInterceptNeedsNetns},
		{BackendContainer, true, ErrInterceptNeedsNetns},
		{BackendNetns, true, nil},
		{BackendLocal, false, nil},
		{BackendContainer, false, nil},
	}
	for _, tc := range tests {
		l := &Lab{spec: Spec{Backend: tc.backend}}
		if err := l.checkIntercept(DeviceOptions{Intercept: tc.intercept}); !errors.Is(err, tc.want) {
			t.Errorf("backend %q, intercept %v: %v, want %v", tc.backend, tc.intercept, err, tc.want)
		}
	}
}
