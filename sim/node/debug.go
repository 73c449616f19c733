package node

import (
	"context"
	"encoding/json"
	"maps"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime/metrics"
	"sort"
)

// DebugEnv, set to 1 in a node's environment, makes the node serve
// /debug/alloc and /debug/pprof/ on its own address (port 0), announced as
// the "debug" address of its ready file. It is a diagnostic for c2clab
// bench (allocations per GiB) and for profiling a running lab, not part of
// any role's configuration: nothing in a role reads it.
const DebugEnv = "C2CLAB_NODE_DEBUG"

// Alloc is what /debug/alloc answers: the Go runtime's cumulative
// allocation counters and the live heap (runtime/metrics).
type Alloc struct {
	Bytes     uint64 `json:"alloc_bytes"`   // /gc/heap/allocs:bytes
	Objects   uint64 `json:"alloc_objects"` // /gc/heap/allocs:objects
	HeapBytes uint64 `json:"heap_bytes"`    // /memory/classes/heap/objects:bytes
	GCCycles  uint64 `json:"gc_cycles"`     // /gc/cycles/total:gc-cycles
}

// ReadAlloc reads this process's Alloc.
func ReadAlloc() Alloc {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}, {Name: "/gc/heap/allocs:objects"},
		{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	return Alloc{Bytes: s[0].Value.Uint64(), Objects: s[1].Value.Uint64(), HeapBytes: s[2].Value.Uint64(), GCCycles: s[3].Value.Uint64()}
}

// withDebug wraps ready: when DebugEnv is set, the debug server listens
// on the host of the node's first address before the ready file is
// written, and stops with ctx.
func withDebug(ctx context.Context, ready func(map[string]string)) func(map[string]string) {
	if os.Getenv(DebugEnv) != "1" {
		return ready
	}
	return func(addrs map[string]string) {
		addrs = maps.Clone(addrs) // the role's own map stays as it made it
		if host, ok := firstHost(addrs); ok {
			if a, err := serveDebug(ctx, host); err == nil {
				addrs["debug"] = a
			}
			// Without it the node still runs; bench then reports no
			// allocations and says why.
		}
		ready(addrs)
	}
}

// firstHost is the host of the alphabetically first address.
func firstHost(addrs map[string]string) (string, bool) {
	keys := make([]string, 0, len(addrs))
	for k := range addrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if h, _, err := net.SplitHostPort(addrs[k]); err == nil {
			return h, true
		}
	}
	return "", false
}

func serveDebug(ctx context.Context, host string) (string, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/alloc", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(ReadAlloc())
	})
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	context.AfterFunc(ctx, func() { srv.Close() })
	return ln.Addr().String(), nil
}
