package lab

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

func TestPodNameIsADNSLabel(t *testing.T) {
	for _, tc := range []struct {
		name string
		seq  int
		want string
	}{
		{"broker", 1, "broker-1"},
		{"Desktop_LNX14.example", 12, "desktop-lnx14-example-12"},
		{"-odd-", 3, "odd-3"},
		{strings.Repeat("a", 70), 100, strings.Repeat("a", 59) + "-100"},
	} {
		got := podName(tc.name, tc.seq)
		if got != tc.want {
			t.Errorf("podName(%q, %d) = %q, want %q", tc.name, tc.seq, got, tc.want)
		}
		if errs := validation.IsDNS1123Label(got); len(errs) > 0 {
			t.Errorf("podName(%q, %d) = %q: %v", tc.name, tc.seq, got, errs)
		}
	}
}
