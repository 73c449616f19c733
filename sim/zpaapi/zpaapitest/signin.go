package zpaapitest

import (
	"net/http"

	"github.com/c2clab/c2clab/sim/zpaapi"
)

// signIn answers POST /signin (legacy: form client_id, client_secret;
// token answer with expires_in a string, as zscaler-sdk-go
// zscaler/zpa/v2_config.go AuthToken decodes it) and POST
// /oauth2/v1/token (ZIdentity: grant_type=client_credentials, audience
// https://api.zscaler.com, a secret or a JWT client assertion).
func (s *Server) signIn(w http.ResponseWriter, r *http.Request, flow zpaapi.Flow) {
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "POST a form"})
		return
	}
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	s.mu.Lock()
	fail := s.failSignIn
	s.mu.Unlock()
	if fail || !s.credentialsOK(r, flow) {
		// Deliberately careless: echo what was sent.
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client",
			"error_description": "unknown client " + r.PostForm.Get("client_id") + " with secret " + r.PostForm.Get("client_secret") +
				" or assertion " + r.PostForm.Get("client_assertion")})
		return
	}
	tok := s.issue(flow)
	if flow == zpaapi.FlowLegacy {
		writeJSON(w, http.StatusOK, map[string]string{"token_type": "Bearer", "access_token": tok, "expires_in": "3600"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"token_type": "Bearer", "access_token": tok, "expires_in": 3600})
}

func (s *Server) credentialsOK(r *http.Request, flow zpaapi.Flow) bool {
	f := r.PostForm
	if f.Get("client_id") != s.opt.ClientID {
		return false
	}
	if flow == zpaapi.FlowLegacy {
		return f.Get("client_secret") == s.opt.ClientSecret
	}
	if f.Get("grant_type") != "client_credentials" || f.Get("audience") != "https://api.zscaler.com" {
		return false
	}
	if a := f.Get("client_assertion"); a != "" {
		return s.opt.ClientKey != nil &&
			f.Get("client_assertion_type") == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" &&
			s.opt.ClientKey.verify(a, s.opt.ClientID) == nil
	}
	return f.Get("client_secret") == s.opt.ClientSecret
}
