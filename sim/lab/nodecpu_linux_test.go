package lab

import (
	"net/netip"
	"testing"
)

// TestNodeAddrsInAPodNameThePod checks that an address a node in a Pod
// announces on every address ("[::]:PORT", the broker behind its Service)
// is given as the Pod's address, which the runner reaches, and that an
// address with a host, or a node outside a Pod, is left as announced.
func TestNodeAddrsInAPodNameThePod(t *testing.T) {
	inPod := &kubeNode{m: &kubeMachine{pod: "broker-1", podIP: netip.MustParseAddr("100.64.64.2")}}
	l := &Lab{order: []*proc{
		{name: "broker", run: inPod, ready: Ready{Addrs: map[string]string{"debug": "[::]:40983", "admin": "0.0.0.0:81", "control": "100.64.64.2:443"}}},
		{name: "local", run: processRunner{}, ready: Ready{Addrs: map[string]string{"debug": "[::]:5"}}},
	}}
	for _, tc := range []struct {
		node, key, want string
	}{
		{"broker", "debug", "100.64.64.2:40983"},
		{"broker", "admin", "100.64.64.2:81"},
		{"broker", "control", "100.64.64.2:443"},
		{"local", "debug", "[::]:5"},
	} {
		addrs, ok := l.NodeAddrs(tc.node)
		if !ok || addrs[tc.key] != tc.want {
			t.Errorf("%s %s: %q (found %v), want %q", tc.node, tc.key, addrs[tc.key], ok, tc.want)
		}
	}
	if _, ok := l.NodeAddrs("nobody"); ok {
		t.Error("a node the lab does not run: found")
	}
}
