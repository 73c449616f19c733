package zpaapi

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestEndpointsByCloud(t *testing.T) {
	cases := []struct {
		name                 string
		cfg                  Config
		base, signin, prefix string
	}{
		{"legacy default", Config{Flow: FlowLegacy}, "https://config.private.zscaler.com", "https://config.private.zscaler.com/signin", ""},
		{"legacy beta", Config{Flow: FlowLegacy, Cloud: "beta"}, "https://config.zpabeta.net", "https://config.zpabeta.net/signin", ""},
		{"legacy zpatwo", Config{Flow: FlowLegacy, Cloud: "ZPATWO"}, "https://config.zpatwo.net", "https://config.zpatwo.net/signin", ""},
		{"legacy gov", Config{Flow: FlowLegacy, Cloud: "GOV"}, "https://config.zpagov.net", "https://config.zpagov.net/signin", ""},
		{"legacy govus", Config{Flow: FlowLegacy, Cloud: "GOVUS"}, "https://config.zpagov.us", "https://config.zpagov.us/signin", ""},
		{"legacy preview", Config{Flow: FlowLegacy, Cloud: "PREVIEW"}, "https://config.zpapreview.net", "https://config.zpapreview.net/signin", ""},
		{"legacy override", Config{Flow: FlowLegacy, BaseURL: "http://127.0.0.1:1/"}, "http://127.0.0.1:1", "http://127.0.0.1:1/signin", ""},
		{"oneapi production", Config{Flow: FlowOneAPI, VanityDomain: "acme"}, "https://api.zsapi.net", "https://acme.zslogin.net/oauth2/v1/token", "/zpa"},
		{"oneapi beta", Config{Flow: FlowOneAPI, VanityDomain: "acme", Cloud: "BETA"}, "https://api.beta.zsapi.net", "https://acme.zsloginbeta.net/oauth2/v1/token", "/zpa"},
		{"oneapi gov", Config{Flow: FlowOneAPI, VanityDomain: "acme", Cloud: "gov"}, "https://api.zscalergov.net", "https://acme.zidentitygov.net/oauth2/v1/token", "/zpa"},
		{"oneapi govus", Config{Flow: FlowOneAPI, VanityDomain: "acme", Cloud: "GOVUS"}, "https://api.zscalergov.us", "https://acme.zidentitygov.us/oauth2/v1/token", "/zpa"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			base, signin, prefix, err := tc.cfg.endpoints()
			if err != nil || base != tc.base || signin != tc.signin || prefix != tc.prefix {
				t.Errorf("got %q %q %q %v, want %q %q %q", base, signin, prefix, err, tc.base, tc.signin, tc.prefix)
			}
		})
	}
	if _, _, _, err := (Config{Flow: FlowLegacy, Cloud: "MARS"}).endpoints(); err == nil || !strings.Contains(err.Error(), "ZPATWO") {
		t.Errorf("unknown cloud: %v, want an error listing the accepted ones", err)
	}
}

func TestConfigFromEnv(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	legacy := []string{EnvZPAClientID, "id1", EnvZPAClientSecret, "sec1", EnvZPACustomerID, "42", EnvZPACloud, "BETA"}
	oneapi := []string{EnvClientID, "id2", EnvClientSecret, "sec2", EnvVanityDomain, "acme", EnvCloud, "beta", EnvZPACustomerID, "42"}
	cases := []struct {
		name    string
		getenv  func(string) string
		want    Config
		wantErr string
	}{
		{"legacy", env(legacy...), Config{Flow: FlowLegacy, ClientID: "id1", ClientSecret: "sec1", CustomerID: "42", Cloud: "BETA"}, ""},
		{"oneapi", env(oneapi...), Config{Flow: FlowOneAPI, ClientID: "id2", ClientSecret: "sec2", CustomerID: "42", VanityDomain: "acme", Cloud: "beta"}, ""},
		{"both, legacy asked for", env(append(append(oneapi, legacy...), EnvUseLegacyClient, "true")...),
			Config{Flow: FlowLegacy, ClientID: "id1", ClientSecret: "sec1", CustomerID: "42", Cloud: "BETA"}, ""},
		{"nothing", env(), Config{}, "no API credentials"},
		{"oneapi without vanity or customer", env(EnvClientID, "id2", EnvClientSecret, "s"), Config{}, EnvVanityDomain},
		{"legacy without secret", env(EnvZPAClientID, "id1", EnvZPACustomerID, "42"), Config{}, EnvZPAClientSecret},
		{"customer ID not a number", env(EnvZPAClientID, "id1", EnvZPAClientSecret, "s", EnvZPACustomerID, "acme"), Config{}, "not a number"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ConfigFromEnv(tc.getenv)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil || got.Flow != tc.want.Flow || got.ClientID != tc.want.ClientID || got.ClientSecret != tc.want.ClientSecret ||
				got.CustomerID != tc.want.CustomerID || got.Cloud != tc.want.Cloud || got.VanityDomain != tc.want.VanityDomain {
				t.Errorf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestRetryDelay(t *testing.T) {
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	h := func(kv ...string) http.Header {
		x := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			x.Set(kv[i], kv[i+1])
		}
		return x
	}
	cases := []struct {
		name    string
		h       http.Header
		attempt int
		want    time.Duration
	}{
		{"seconds", h("Retry-After", "12"), 1, 12 * time.Second},
		{"date", h("Retry-After", now.Add(5*time.Second).Format(http.TimeFormat)), 1, 5 * time.Second},
		{"date passed", h("Retry-After", now.Add(-5*time.Second).Format(http.TimeFormat)), 1, 0},
		{"reset header", h("X-Ratelimit-Reset", "27"), 1, 27 * time.Second},
		{"backoff 1", h(), 1, 2 * time.Second},
		{"backoff 3", h(), 3, 8 * time.Second},
		{"backoff capped", h(), 20, 64 * time.Second},
	}
	for _, tc := range cases {
		if got := retryDelay(tc.h, tc.attempt, now); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestTotalPages(t *testing.T) {
	cases := []struct {
		body    string
		want    int
		wantErr bool
	}{
		{`{"totalPages":"2","list":[]}`, 2, false},
		{`{"totalPages":72,"totalCount":1424,"list":[]}`, 72, false},
		{`{"list":[]}`, 1, false},
		{`{"totalPages":"two"}`, 0, true},
		{`[]`, 0, true},
	}
	for _, tc := range cases {
		got, err := totalPages([]byte(tc.body))
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("%s: %d, %v; want %d (error %v)", tc.body, got, err, tc.want, tc.wantErr)
		}
	}
}
