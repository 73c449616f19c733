// Package zpaapitest replays saved ZPA API bodies on a loopback HTTP server
// that signs in like ZPA's legacy API and like ZIdentity (OneAPI), pages
// like ZPA and can refuse a sign-in or answer 429, so `tenant pull` is
// tested end to end without the Internet.
//
// The bodies come from a directory in the layout zpaapi.WriteDir writes
// (fixtures/zpa/helpdesk is one): each request is answered with the file
// its resource and page name (zpaapi.Resource.File), or 404 when that file
// is absent, so an incomplete set fails a pull as a missing page would.
package zpaapitest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/c2clab/c2clab/sim/zpaapi"
)

// Credentials and customer the server accepts unless Options say otherwise.
// DefaultCustomerID is the customer of fixtures/zpa/helpdesk.
const (
	DefaultCustomerID   = "216199618143191040"
	DefaultClientID     = "replay-client-7f3a9c"
	DefaultClientSecret = "replay-secret-5d8e2b41c9"
)

// Paths of the two sign-in endpoints on the server.
const (
	LegacySignInPath = "/signin"
	OneAPITokenPath  = "/oauth2/v1/token"
)

// Options configure a Server; the zero value serves the defaults above.
type Options struct {
	CustomerID   string
	ClientID     string
	ClientSecret string
	// ClientKey, if set, lets OneAPI clients sign in with a private-key
	// JWT client assertion verified against it.
	ClientKey *PublicKey
}

// Request is one request the server saw.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Status int
}

// Server is a running replay server. Its methods are safe for concurrent use.
type Server struct {
	// URL is the base URL for both flows' BaseURL; see Config.
	URL string

	srv  *httptest.Server
	fsys fs.FS
	opt  Options

	mu         sync.Mutex // guards the fields below
	failSignIn bool
	limits     map[string][]string
	tokens     map[string]zpaapi.Flow
	expired    []string
	requests   []Request
}

// NewServerDir serves the bodies in dir.
func NewServerDir(dir string, opt Options) *Server {
	return NewServer(os.DirFS(dir), opt)
}

// NewServer serves the bodies in fsys on 127.0.0.1. Close it when done.
func NewServer(fsys fs.FS, opt Options) *Server {
	if opt.CustomerID == "" {
		opt.CustomerID = DefaultCustomerID
	}
	if opt.ClientID == "" {
		opt.ClientID = DefaultClientID
	}
	if opt.ClientSecret == "" {
		opt.ClientSecret = DefaultClientSecret
	}
	s := &Server{fsys: fsys, opt: opt, limits: map[string][]string{}, tokens: map[string]zpaapi.Flow{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.URL = s.srv.URL
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Config is a zpaapi.Config of flow pointed at this server with the
// credentials it accepts.
func (s *Server) Config(flow zpaapi.Flow) zpaapi.Config {
	return zpaapi.Config{
		Flow: flow, ClientID: s.opt.ClientID, ClientSecret: s.opt.ClientSecret, CustomerID: s.opt.CustomerID,
		VanityDomain: "replay", BaseURL: s.URL, TokenURL: s.URL + OneAPITokenPath, HTTPClient: s.srv.Client(),
	}
}

// FailSignIn makes every sign-in fail with 401 while on is true. The
// refusal echoes the submitted client ID and secret, as a careless server
// might, so tests can prove the client never repeats them.
func (s *Server) FailSignIn(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failSignIn = on
}

// RateLimit makes the next len(retryAfter) GETs of resource (a
// zpaapi.Resource.Name) answer 429 with those Retry-After values in turn
// ("" sends none).
func (s *Server) RateLimit(resource string, retryAfter ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits[resource] = append(s.limits[resource], retryAfter...)
}

// Requests returns what the server saw, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	switch {
	case r.URL.Path == LegacySignInPath:
		s.signIn(rec, r, zpaapi.FlowLegacy)
	case r.URL.Path == OneAPITokenPath:
		s.signIn(rec, r, zpaapi.FlowOneAPI)
	default:
		s.serveAPI(rec, r)
	}
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Status: rec.status})
	s.mu.Unlock()
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "replay-token-" + hex.EncodeToString(b)
}

func (s *Server) issue(flow zpaapi.Flow) string {
	t := newToken()
	s.mu.Lock()
	s.tokens[t] = flow
	s.mu.Unlock()
	return t
}

// tokenFlow is the flow a request's bearer token was issued to, 0 if none.
func (s *Server) tokenFlow(r *http.Request) zpaapi.Flow {
	t, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokens[t]
}

// takeLimit pops the next queued 429 of resource.
func (s *Server) takeLimit(resource string) (retryAfter string, limited bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.limits[resource]
	if len(q) == 0 {
		return "", false
	}
	s.limits[resource] = q[1:]
	return q[0], true
}

func pageOf(q url.Values) int {
	n, err := strconv.Atoi(q.Get("page"))
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// Tokens returns every token the server issued, for tests that prove no
// token reaches a log.
func (s *Server) Tokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append(keys(s.tokens), s.expired...)
}

// ExpireTokens forgets every issued token, as ZPA does when a token's hour
// is up: the next GET answers 401.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expired = append(s.expired, keys(s.tokens)...)
	s.tokens = map[string]zpaapi.Flow{}
}

func keys(m map[string]zpaapi.Flow) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}
