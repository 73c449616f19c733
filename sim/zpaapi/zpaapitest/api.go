package zpaapitest

import (
	"io/fs"
	"net/http"
	"strings"

	"github.com/c2clab/c2clab/sim/zpaapi"
)

// serveAPI answers a GET of a zpaapi.Resources path with its file. A
// legacy token is good only without the OneAPI "/zpa" prefix and a OneAPI
// token only with it, so a client that mixes the two flows fails here.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	flow := s.tokenFlow(r)
	if flow == 0 {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"id": "authn.failed", "reason": "no valid bearer token"})
		return
	}
	path, oneAPI := strings.CutPrefix(r.URL.Path, "/zpa")
	if oneAPI != (flow == zpaapi.FlowOneAPI) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"id": "authn.failed", "reason": "token of the other API flow"})
		return
	}
	if r.Method != http.MethodGet {
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"id": "method.not.allowed", "reason": "the replay server only reads"})
		return
	}
	res, idpID, ok := s.match(path)
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"id": "resource.not.found", "reason": "no such resource: " + path})
		return
	}
	if after, limited := s.takeLimit(res.Name); limited {
		if after != "" {
			w.Header().Set("Retry-After", after)
		}
		writeJSON(w, http.StatusTooManyRequests, map[string]string{"id": "too.many.requests", "reason": "rate limited"})
		return
	}
	page := 0
	if res.Paged {
		page = pageOf(r.URL.Query())
	}
	data, err := fs.ReadFile(s.fsys, res.File(idpID, page))
	if err != nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"id": "resource.not.found", "reason": "the replay set has no " + res.File(idpID, page)})
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	_, _ = w.Write(data)
}

// match finds the resource whose path template fits path.
func (s *Server) match(path string) (zpaapi.Resource, string, bool) {
	got := strings.Split(path, "/")
	for _, res := range zpaapi.Resources {
		want := strings.Split(res.Path, "/")
		if len(want) != len(got) {
			continue
		}
		idpID, ok := "", true
		for i, seg := range want {
			switch seg {
			case "{customerId}":
				ok = ok && got[i] == s.opt.CustomerID
			case "{idpId}":
				idpID = got[i]
				ok = ok && idpID != ""
			default:
				ok = ok && got[i] == seg
			}
		}
		if ok {
			return res, idpID, true
		}
	}
	return zpaapi.Resource{}, "", false
}
