package broker

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strings"
)

// adminHandler serves the admin API:
//
//	GET /api/v1/userStatus    []UserStatus   (bearer token)
//	GET /api/v1/userActivity  []Activity     (bearer token)
//	GET /healthz              "ok"           (no token: liveness only)
//
// Both lists take an optional ?tenant=ID filter.
func (b *broker) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("ok\n"))
	})
	mux.Handle("GET /api/v1/userStatus", b.authorized(func(w http.ResponseWriter, r *http.Request) {
		all := b.logs.snapshotStatus()
		out := all[:0]
		for _, s := range all {
			if t := r.URL.Query().Get("tenant"); t == "" || t == s.Tenant {
				out = append(out, s)
			}
		}
		writeJSON(w, out)
	}))
	mux.Handle("GET /api/v1/userActivity", b.authorized(func(w http.ResponseWriter, r *http.Request) {
		all := b.logs.snapshotActivity()
		out := all[:0]
		for _, a := range all {
			if t := r.URL.Query().Get("tenant"); t == "" || t == a.Tenant {
				out = append(out, a)
			}
		}
		writeJSON(w, out)
	}))
	return mux
}

// authorized requires "Authorization: Bearer <AdminToken>"; an empty
// AdminToken refuses everyone.
func (b *broker) authorized(h http.HandlerFunc) http.Handler {
	want := []byte(b.cfg.AdminToken)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || len(want) == 0 || subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="c2clab broker"`)
			http.Error(w, "401 unauthorized: send Authorization: Bearer <admin token>", http.StatusUnauthorized)
			return
		}
		h(w, r)
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
