package policy

import (
	"strings"
	"testing"

	"github.com/c2clab/c2clab/sim/device"
)

// newEngine builds an engine or fails the test.
func newEngine(t testing.TB, cfg Config) *Engine {
	t.Helper()
	e, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return e
}

// goodWindows is a Windows destination that passes every device gate.
func goodWindows(id, fqdn string) Registration {
	return Registration{
		ID: id, FQDN: fqdn, OS: device.Windows, ConnectorVersion: "3.9.0.169",
		JoinState: device.JoinAD, LoggedIn: true, PrivateAccess: true, User: "enduser@example.com",
	}
}

// c2cSegment is a client-to-client segment for RDP and SMB.
func c2cSegment(id, domain string) Segment {
	return Segment{ID: id, Name: id, Enabled: true, Domains: []string{domain},
		TCP: []PortRange{{3389, 3389}, {445, 445}}, UDP: []PortRange{{3389, 3389}}, GroupID: "grp-c2c"}
}

// op and cnd shorten rule literals.
func op(typ, lhs, rhs string) Operand { return Operand{ObjectType: typ, LHS: lhs, RHS: rhs} }

func cnd(ops ...Operand) Condition { return Condition{Operands: ops} }

// hasTrace reports whether some trace line contains want.
func hasTrace(trace []string, want string) bool {
	for _, l := range trace {
		if strings.Contains(l, want) {
			return true
		}
	}
	return false
}

func traceText(trace []string) string { return "\n\t" + strings.Join(trace, "\n\t") }
