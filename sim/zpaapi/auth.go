package zpaapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// oneAPIAudience is the audience of every ZIdentity token for Zscaler's
// APIs (zscaler-sdk-go zscaler/oneapiclient.go Authenticate and
// authenticateWithCert).
const oneAPIAudience = "https://api.zscaler.com"

// SignInError is a sign-in the server refused. It names what to check and
// never carries a credential.
type SignInError struct {
	Flow   Flow
	URL    string
	Status int
	Detail string // the server's answer, cleaned of credentials, cut short
}

func (e *SignInError) Error() string {
	check := fmt.Sprintf("check %s and %s, and that %s names the cloud the API key was made in",
		EnvZPAClientID, EnvZPAClientSecret, EnvZPACloud)
	if e.Flow == FlowOneAPI {
		check = fmt.Sprintf("check %s and %s (or %s), and that %s and %s name the ZIdentity tenant of the API client",
			EnvClientID, EnvClientSecret, EnvPrivateKey, EnvVanityDomain, EnvCloud)
	}
	msg := fmt.Sprintf("zpaapi: %s sign-in at %s refused: HTTP %d %s: %s", e.Flow, e.URL, e.Status, http.StatusText(e.Status), check)
	if e.Detail != "" {
		msg += "; the server said: " + e.Detail
	}
	return msg
}

// tokenResponse is what both token endpoints answer (zscaler-sdk-go
// zscaler/zpa/v2_config.go AuthToken: token_type, access_token,
// expires_in; expires_in is a string on the legacy API, a number on
// ZIdentity, and is not needed here).
type tokenResponse struct {
	TokenType   string `json:"token_type"`
	AccessToken string `json:"access_token"`
}

// signInForm is the form POSTed to the sign-in URL: for the legacy API
// client_id and client_secret (zscaler-sdk-go zscaler/zpa/v2_client.go
// Authenticate); for OneAPI grant_type=client_credentials with the secret
// or a private-key JWT client assertion, and the audience.
func (c Config) signInForm() (url.Values, error) {
	form := url.Values{}
	form.Set("client_id", c.ClientID)
	if c.Flow == FlowLegacy {
		form.Set("client_secret", c.ClientSecret)
		return form, nil
	}
	form.Set("grant_type", "client_credentials")
	form.Set("audience", oneAPIAudience)
	if len(c.PrivateKey) == 0 {
		form.Set("client_secret", c.ClientSecret)
		return form, nil
	}
	assertion, err := clientAssertion(c.ClientID, c.PrivateKey, c.now())
	if err != nil {
		return nil, err
	}
	form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
	form.Set("client_assertion", assertion)
	return form, nil
}

// signIn returns a bearer token.
func (cl *client) signIn(ctx context.Context) error {
	form, err := cl.cfg.signInForm()
	if err != nil {
		return err
	}
	cl.red.add(form.Get("client_assertion")) // a credential for its 10 minutes
	newReq := func() (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, cl.signinURL, strings.NewReader(form.Encode()))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", userAgent)
		return req, nil
	}
	cl.red.logf(cl.cfg.Logf, "POST %s (%s sign-in)", cl.signinURL, cl.cfg.Flow)
	resp, body, err := cl.do(ctx, newReq)
	if err != nil {
		return fmt.Errorf("zpaapi: %s sign-in at %s: %w", cl.cfg.Flow, cl.signinURL, err)
	}
	if resp.StatusCode != http.StatusOK {
		return &SignInError{Flow: cl.cfg.Flow, URL: cl.signinURL, Status: resp.StatusCode, Detail: cl.detail(body)}
	}
	var tok tokenResponse
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		return fmt.Errorf("zpaapi: %s sign-in at %s: HTTP 200 without an access_token in its JSON body", cl.cfg.Flow, cl.signinURL)
	}
	cl.red.add(tok.AccessToken)
	cl.token = tok.AccessToken
	return nil
}

// detail is a server's error body fit for a message: cleaned, one line,
// at most 300 bytes.
func (cl *client) detail(body []byte) string {
	s := strings.Join(strings.Fields(cl.red.clean(string(body))), " ")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

// drain reads a body to the end so the connection is reused.
func drain(r io.ReadCloser) ([]byte, error) {
	defer r.Close()
	return io.ReadAll(io.LimitReader(r, 64<<20))
}
