package node

import (
	"context"
	"encoding/json"
	"maps"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
	"sort"
)

// DebugEnv, set to 1 in a node's environment, makes the node serve
// /debug/alloc and /debug/pprof/ on its own address (port 0), announced as
// the "debug" address of its ready file. It is a diagnostic for c2clab
// bench (allocations per GiB) and for profiling a running lab, not part of
// any role's configuration: nothing in a role reads it.
const DebugEnv = "C2CLAB_NODE_DEBUG"

// Alloc is what /debug/alloc answers: the Go runtime's cumulative
// allocation counters and the live heap (runtime.MemStats).
type Alloc struct {
	Bytes     uint64 `json:"alloc_bytes"`   // TotalAlloc
	Objects   uint64 `json:"alloc_objects"` // Mallocs
	HeapBytes uint64 `json:"heap_bytes"`    // HeapAlloc
	GCCycles  uint64 `json:"gc_cycles"`     // NumGC
}

// ReadAlloc reads this process's Alloc. runtime/metrics would not stop the
// world, but its allocation counts leave out the objects of each P's
// current span until the span is flushed (1,000 allocations of 1 KiB read
// as 992); ReadMemStats flushes them, and bench reads only a few times a
// run.
func ReadAlloc() Alloc {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return Alloc{Bytes: m.TotalAlloc, Objects: m.Mallocs, HeapBytes: m.HeapAlloc, GCCycles: uint64(m.NumGC)}
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
