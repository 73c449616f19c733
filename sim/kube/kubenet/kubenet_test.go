package kubenet

import (
	"encoding/json"
	"net/netip"
	"testing"
)

// TestPoolSkipsTheNetworkTheGatewayAndTheBroadcast: a /29 has 5 addresses
// for machines, .2 to .6, and then none.
func TestPoolSkipsTheNetworkTheGatewayAndTheBroadcast(t *testing.T) {
	p := Pool{Prefix: netip.MustParsePrefix("198.18.7.0/29")}
	for _, want := range []string{"198.18.7.2", "198.18.7.3", "198.18.7.4", "198.18.7.5", "198.18.7.6"} {
		a, err := p.Next()
		if err != nil || a.String() != want {
			t.Fatalf("Next() = %v, %v; want %s", a, err, want)
		}
	}
	if a, err := p.Next(); err == nil {
		t.Errorf("Next() after the last = %v; want an error", a)
	}
}

// TestNetworksAsksForNet1AtTheAddress: the annotation Multus reads.
func TestNetworksAsksForNet1AtTheAddress(t *testing.T) {
	got, err := Networks("wan", netip.MustParseAddr("198.18.7.3"), netip.MustParsePrefix("198.18.7.0/24"))
	if err != nil {
		t.Fatal(err)
	}
	var sel []Selection
	if err := json.Unmarshal([]byte(got), &sel); err != nil || len(sel) != 1 || sel[0].Name != "wan" || sel[0].Interface != "net1" || len(sel[0].IPs) != 1 || sel[0].IPs[0] != "198.18.7.3/24" {
		t.Errorf("Networks = %s (%v); want wan as net1 at 198.18.7.3/24", got, err)
	}
}
