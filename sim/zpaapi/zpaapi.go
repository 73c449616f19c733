// Package zpaapi fetches a tenant's configuration from the ZPA API, as the
// response bodies `c2clab tenant import` reads, for `c2clab tenant pull`.
//
// It speaks both sign-in flows Zscaler's SDKs speak: the legacy ZPA API
// (POST {base}/signin with a client ID and secret) and OneAPI (a ZIdentity
// client-credentials token, API under https://api.zsapi.net/zpa). Bodies are
// kept byte for byte as the API returned them; nothing here interprets a
// tenant, so an import of the written directory and a pull give the same
// tenant by construction. URLs, parameters and headers follow
// github.com/zscaler/zscaler-sdk-go (zscaler/zpa/v2_config.go,
// zscaler/zpa/v2_client.go, zscaler/oneapiclient.go,
// zscaler/zpa/services/...); docs/ZPA_API.md names each source.
package zpaapi

import (
	"context"
	"net/http"
	"time"
)

// Flow is the sign-in flow of an API client.
type Flow int

const (
	// FlowLegacy is the ZPA API client of the ZPA console (Public API > API
	// Keys): POST {base}/signin, form client_id and client_secret.
	FlowLegacy Flow = iota + 1
	// FlowOneAPI is a ZIdentity API client: an OAuth2 client-credentials
	// token from https://{vanityDomain}.zslogin.net/oauth2/v1/token.
	FlowOneAPI
)

func (f Flow) String() string {
	switch f {
	case FlowLegacy:
		return "legacy"
	case FlowOneAPI:
		return "oneapi"
	}
	return "unset"
}

// Defaults used where a Config field is zero.
const (
	// DefaultPageSize is the SDKs' page size (zscaler-sdk-go
	// zscaler/zpa/services/common/common.go DefaultPageSize), ZPA's maximum.
	DefaultPageSize = 500
	// DefaultMaxRetries bounds the retries of one request on 429 or 503.
	DefaultMaxRetries = 5
	// DefaultMaxRetryWait is the longest single wait a Retry-After may ask
	// for; a longer one fails the pull instead of hanging it.
	DefaultMaxRetryWait = 2 * time.Minute
)

// Config says whom to sign in as and where. The zero value of every field
// but the credentials, CustomerID and (OneAPI) VanityDomain is valid.
type Config struct {
	Flow Flow

	// ClientID and ClientSecret are the API client's credentials. For
	// FlowOneAPI, PrivateKey (PEM, RSA) may replace ClientSecret.
	ClientID     string
	ClientSecret string
	PrivateKey   []byte

	// CustomerID is the ZPA tenant ID (ZPA_CUSTOMER_ID in both flows).
	CustomerID string

	// Cloud selects the hosts: for FlowLegacy PRODUCTION (default), BETA,
	// ZPATWO, GOV, GOVUS, PREVIEW; for FlowOneAPI PRODUCTION (default),
	// BETA, GOV, GOVUS or any other cloud name ZIdentity serves.
	Cloud string
	// VanityDomain is the ZIdentity vanity domain (FlowOneAPI only).
	VanityDomain string

	// BaseURL replaces the API host chosen by Cloud, and TokenURL the
	// OneAPI token URL (tests point both at a loopback server). Legacy
	// sign-in is always {BaseURL}/signin.
	BaseURL  string
	TokenURL string

	// HTTPClient defaults to a client with a 60 s timeout.
	HTTPClient *http.Client
	// PageSize defaults to DefaultPageSize.
	PageSize int
	// MaxRetries defaults to DefaultMaxRetries; MaxRetryWait to
	// DefaultMaxRetryWait.
	MaxRetries   int
	MaxRetryWait time.Duration
	// Sleep waits d or until ctx ends; it defaults to a timer. Tests
	// inject one to see the waits without spending them.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now defaults to time.Now (Retry-After dates, JWT expiry).
	Now func() time.Time
	// Logf, if set, receives one line per request. Credentials and tokens
	// are removed from everything it receives.
	Logf func(format string, args ...any)
}

func (c Config) pageSize() int {
	if c.PageSize > 0 {
		return c.PageSize
	}
	return DefaultPageSize
}

func (c Config) maxRetries() int {
	if c.MaxRetries > 0 {
		return c.MaxRetries
	}
	return DefaultMaxRetries
}

func (c Config) maxRetryWait() time.Duration {
	if c.MaxRetryWait > 0 {
		return c.MaxRetryWait
	}
	return DefaultMaxRetryWait
}

func (c Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c Config) httpClient() *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	return &http.Client{Timeout: 60 * time.Second}
}

func (c Config) sleep(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
