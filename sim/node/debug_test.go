package node

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
)

func TestDebugServerAnnouncesItselfAndCountsAllocations(t *testing.T) {
	t.Setenv(DebugEnv, "1")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got map[string]string
	withDebug(ctx, func(a map[string]string) { got = a })(map[string]string{"status": "127.0.0.1:1"})
	addr, ok := got["debug"]
	if !ok {
		t.Fatalf("ready addresses %v: no debug address", got)
	}
	read := func() Alloc {
		resp, err := http.Get("http://" + addr + "/debug/alloc")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var a Alloc
		if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
			t.Fatal(err)
		}
		return a
	}
	before := read()
	sink := make([][]byte, 0, 1000)
	for range 1000 {
		sink = append(sink, make([]byte, 1024))
	}
	after := read()
	if d := after.Objects - before.Objects; d < 1000 || after.Bytes-before.Bytes < 1000*1024 {
		t.Errorf("1,000 allocations of 1 KiB read as %d objects, %d bytes", d, after.Bytes-before.Bytes)
	}
	_ = sink
}

func TestNoDebugServerWithoutTheEnvironment(t *testing.T) {
	t.Setenv(DebugEnv, "")
	var got map[string]string
	withDebug(context.Background(), func(a map[string]string) { got = a })(map[string]string{"status": "127.0.0.1:1"})
	if _, ok := got["debug"]; ok {
		t.Errorf("debug address %q without %s=1", got["debug"], DebugEnv)
	}
}
