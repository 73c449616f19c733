package zpaapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// client is one pull's connection state; it is used by one goroutine.
type client struct {
	cfg                     Config
	base, signinURL, prefix string
	red                     *redactor
	token                   string
}

func newClient(cfg Config) (*client, error) {
	red := &redactor{}
	red.add(cfg.ClientID)
	red.add(cfg.ClientSecret)
	red.add(string(cfg.PrivateKey))
	if err := cfg.Validate(); err != nil {
		return nil, red.wrap(err)
	}
	base, signin, prefix, err := cfg.endpoints()
	if err != nil {
		return nil, red.wrap(err)
	}
	return &client{cfg: cfg, base: base, signinURL: signin, prefix: prefix, red: red}, nil
}

// userAgent names the lab to Zscaler's logs, as the SDKs name themselves
// (zscaler-sdk-go zscaler/zpa/v2_config.go UserAgent).
const userAgent = "c2clab-tenant-pull"

// HTTPError is an API answer other than 200 to a GET.
type HTTPError struct {
	Endpoint string
	Status   int
	Detail   string
	Hint     string
}

func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("zpaapi: GET %s: HTTP %d %s", e.Endpoint, e.Status, http.StatusText(e.Status))
	if e.Hint != "" {
		msg += ": " + e.Hint
	}
	if e.Detail != "" {
		msg += "; the server said: " + e.Detail
	}
	return msg
}

// RateLimitError is a request still refused with 429 or 503 after the
// retries allowed, or asked to wait longer than Config.MaxRetryWait.
type RateLimitError struct {
	URL      string
	Attempts int
	Wait     time.Duration // the last wait the server asked for
	Max      time.Duration // Config.MaxRetryWait in force
	TooLong  bool
}

func (e *RateLimitError) Error() string {
	if e.TooLong {
		return fmt.Sprintf("zpaapi: %s: rate limited, and the server asks to wait %s, longer than the %s allowed (Config.MaxRetryWait); try again later", e.URL, e.Wait, e.Max)
	}
	return fmt.Sprintf("zpaapi: %s: still rate limited after %d attempts; try again later or raise Config.MaxRetries", e.URL, e.Attempts)
}

// do sends the request newReq builds, retrying on 429 and 503 as the
// server's Retry-After says (seconds or an HTTP date), else as
// X-Ratelimit-Reset says (zscaler-sdk-go zscaler/oneapiconfig.go reads
// both), else with a doubling backoff from 2 s. It reads the whole body.
func (cl *client) do(ctx context.Context, newReq func() (*http.Request, error)) (*http.Response, []byte, error) {
	for attempt := 1; ; attempt++ {
		req, err := newReq()
		if err != nil {
			return nil, nil, cl.red.wrap(err)
		}
		resp, err := cl.cfg.httpClient().Do(req)
		if err != nil {
			return nil, nil, cl.red.wrap(err)
		}
		body, err := drain(resp.Body)
		if err != nil {
			return nil, nil, cl.red.wrap(fmt.Errorf("reading the answer: %w", err))
		}
		if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable {
			return resp, body, nil
		}
		wait := retryDelay(resp.Header, attempt, cl.cfg.now())
		where := req.URL.Redacted()
		if wait > cl.cfg.maxRetryWait() {
			return nil, nil, &RateLimitError{URL: where, Attempts: attempt, Wait: wait, Max: cl.cfg.maxRetryWait(), TooLong: true}
		}
		if attempt > cl.cfg.maxRetries() {
			return nil, nil, &RateLimitError{URL: where, Attempts: attempt, Wait: wait}
		}
		cl.red.logf(cl.cfg.Logf, "%s: HTTP %d, waiting %s before attempt %d", where, resp.StatusCode, wait, attempt+1)
		if err := cl.cfg.sleep(ctx, wait); err != nil {
			return nil, nil, err
		}
	}
}

// retryDelay is how long to wait before attempt+1.
func retryDelay(h http.Header, attempt int, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if s, err := strconv.Atoi(v); err == nil && s >= 0 {
			return time.Duration(s) * time.Second
		}
		if t, err := http.ParseTime(v); err == nil {
			if d := t.Sub(now); d > 0 {
				return d
			}
			return 0
		}
	}
	if s, err := strconv.Atoi(strings.TrimSpace(h.Get("X-Ratelimit-Reset"))); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	d := 2 * time.Second << min(attempt-1, 5)
	return d
}

// get GETs an API path with the bearer token, signing in first and once
// more if the token is refused (it expires after an hour). It returns the
// body and the endpoint as requested (path and query, no host).
func (cl *client) get(ctx context.Context, path string, query url.Values) ([]byte, string, error) {
	endpoint := cl.prefix + path
	if len(query) > 0 {
		endpoint += "?" + query.Encode()
	}
	if cl.token == "" {
		if err := cl.signIn(ctx); err != nil {
			return nil, endpoint, err
		}
	}
	for signedInAgain := false; ; signedInAgain = true {
		resp, body, err := cl.getOnce(ctx, endpoint)
		if err != nil {
			return nil, endpoint, cl.red.wrap(fmt.Errorf("zpaapi: GET %s: %w", endpoint, err))
		}
		if resp.StatusCode == http.StatusUnauthorized && !signedInAgain {
			if err := cl.signIn(ctx); err != nil {
				return nil, endpoint, err
			}
			continue
		}
		if resp.StatusCode != http.StatusOK {
			return nil, endpoint, &HTTPError{Endpoint: endpoint, Status: resp.StatusCode, Detail: cl.detail(body), Hint: statusHint(resp.StatusCode)}
		}
		return body, endpoint, nil
	}
}

func (cl *client) getOnce(ctx context.Context, endpoint string) (*http.Response, []byte, error) {
	cl.red.logf(cl.cfg.Logf, "GET %s", endpoint)
	return cl.do(ctx, func() (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, cl.base+endpoint, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+cl.token)
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", userAgent)
		return req, nil
	})
}

func statusHint(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return "the token was refused twice; check that the API client is still enabled"
	case http.StatusForbidden:
		return "the API client may lack read access to this resource, or the customer ID is not its tenant (" + EnvZPACustomerID + ")"
	case http.StatusNotFound:
		return "no such resource for this customer; check " + EnvZPACustomerID + " and the cloud"
	}
	return ""
}
