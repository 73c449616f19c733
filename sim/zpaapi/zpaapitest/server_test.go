package zpaapitest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/c2clab/c2clab/sim/zpaapi"
)

const helpdesk = "../../../fixtures/zpa/helpdesk"

func signIn(t *testing.T, s *Server, path string, form url.Values) (int, string) {
	t.Helper()
	resp, err := s.srv.Client().PostForm(s.URL+path, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	return resp.StatusCode, tok.AccessToken
}

func get(t *testing.T, s *Server, method, path, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, s.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServerAnswersAsTheAPIWould(t *testing.T) {
	s := NewServerDir(helpdesk, Options{})
	defer s.Close()
	legacyForm := url.Values{"client_id": {DefaultClientID}, "client_secret": {DefaultClientSecret}}
	oneForm := url.Values{"client_id": {DefaultClientID}, "client_secret": {DefaultClientSecret},
		"grant_type": {"client_credentials"}, "audience": {"https://api.zscaler.com"}}
	_, legacy := signIn(t, s, LegacySignInPath, legacyForm)
	_, one := signIn(t, s, OneAPITokenPath, oneForm)
	if legacy == "" || one == "" {
		t.Fatal("no token issued")
	}
	if st, _ := signIn(t, s, OneAPITokenPath, legacyForm); st != 401 {
		t.Errorf("OneAPI token without grant_type and audience: %d, want 401", st)
	}
	if st, _ := signIn(t, s, LegacySignInPath, url.Values{"client_id": {DefaultClientID}, "client_secret": {"wrong"}}); st != 401 {
		t.Errorf("a wrong secret: %d, want 401", st)
	}
	apps := "/mgmtconfig/v1/admin/customers/" + DefaultCustomerID + "/application"
	cases := []struct {
		name, method, path, token string
		status                    int
		body                      string
	}{
		{"legacy page 2", "GET", apps + "?page=2&pagesize=500", legacy, 200, `"name": "Jump Host"`},
		{"oneapi page 1", "GET", "/zpa" + apps + "?page=1", one, 200, `"name": "Helpdesk Desktops"`},
		{"legacy token on a OneAPI path", "GET", "/zpa" + apps, legacy, 401, "other API flow"},
		{"OneAPI token on a legacy path", "GET", apps, one, 401, "other API flow"},
		{"no token", "GET", apps, "", 401, "no valid bearer token"},
		{"a page the set lacks", "GET", apps + "?page=3", legacy, 404, "application.page-3.json"},
		{"another customer", "GET", "/mgmtconfig/v1/admin/customers/1/application", legacy, 404, "no such resource"},
		{"per IdP", "GET", "/userconfig/v1/customers/" + DefaultCustomerID + "/scimgroup/idpId/216199618143191050", legacy, 200, "Contractors"},
		{"not a read", "DELETE", apps, legacy, 405, "only reads"},
	}
	for _, tc := range cases {
		st, body := get(t, s, tc.method, tc.path, tc.token)
		if st != tc.status || !strings.Contains(body, tc.body) {
			t.Errorf("%s: %d %.80q, want %d with %q", tc.name, st, body, tc.status, tc.body)
		}
	}
	s.RateLimit("application", "9")
	if st, _ := get(t, s, "GET", apps, legacy); st != 429 {
		t.Errorf("rate limited: %d, want 429", st)
	}
	if st, _ := get(t, s, "GET", apps, legacy); st != 200 {
		t.Errorf("after the one 429: %d, want 200", st)
	}
	s.ExpireTokens()
	if st, _ := get(t, s, "GET", apps, legacy); st != 401 {
		t.Errorf("expired token: %d, want 401", st)
	}
	if got := s.Config(zpaapi.FlowOneAPI); got.TokenURL != s.URL+OneAPITokenPath || got.BaseURL != s.URL {
		t.Errorf("Config points at %q %q, want this server", got.BaseURL, got.TokenURL)
	}
}
