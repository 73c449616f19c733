package pod

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client talks to one machine's API.
type Client struct {
	// Base is the API's URL, http://POD-IP:7070.
	Base  string
	Token string
	// HTTP is the client used; nil means http.DefaultClient.
	HTTP *http.Client
}

// ErrNotFound is File's answer for a file that does not exist (yet).
var ErrNotFound = errors.New("machine: no such file")

func (c Client) do(req *http.Request) (*http.Response, error) {
	req.Header.Set("Authorization", "Bearer "+c.Token)
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("machine %s: %w", c.Base, err)
	}
	return resp, nil
}

// Healthy returns nil once the API answers.
func (c Client) Healthy(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Base+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := c.do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return status(resp, "healthz")
}

// Run starts the node and returns its output stream; Exit reads how it
// ended once the stream is drained. ctx bounds the whole stream, not only
// the start: give it the lab's lifetime, and end a node by Signal.
func (c Client) Run(ctx context.Context, req RunRequest) (*Output, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("machine: run %q: %w", req.Name, err)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Base+"/run", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	resp, err := c.do(hr)
	if err != nil {
		return nil, err
	}
	if err := status(resp, "run "+req.Name); err != nil {
		resp.Body.Close()
		return nil, err
	}
	return &Output{resp: resp}, nil
}

// Output is a running node's combined stdout and stderr.
type Output struct{ resp *http.Response }

func (o *Output) Read(p []byte) (int, error) { return o.resp.Body.Read(p) }

// Exit closes the stream and returns nil if the node exited with status
// 0, else how it ended; a stream cut before the trailer (the Pod gone)
// is an error too.
func (o *Output) Exit() error {
	o.resp.Body.Close()
	st := o.resp.Trailer.Get(ExitTrailer)
	switch st {
	case "0":
		return nil
	case "":
		return errors.New("machine: the node's output ended without its exit status (its Pod or machine process ended)")
	}
	return errors.New(st)
}

// Signal sends sig (TERM, KILL, STOP or CONT) to the running node name.
func (c Client) Signal(ctx context.Context, name, sig string) error {
	q := url.Values{"name": {name}, "sig": {sig}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Base+"/signal?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	resp, err := c.do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return status(resp, "signal "+sig+" "+name)
}

// File reads the file at path in the machine, ErrNotFound while it does
// not exist.
func (c Client) File(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Base+"/file?"+url.Values{"path": {path}}.Encode(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, path)
	}
	if err := status(resp, "file "+path); err != nil {
		return nil, err
	}
	return io.ReadAll(resp.Body)
}

// status turns a non-200 answer into an error carrying the server's text.
func status(resp *http.Response, op string) error {
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	return fmt.Errorf("machine: %s: %s: %s", op, resp.Status, strings.TrimSpace(string(msg)))
}

// Impair splices the emulator into the Pod's link and waits until the
// machine answers through it (its address moves into the nodes' namespace
// meanwhile, so the connection the request came on is cut): POST /impair,
// then GET /impair until it reads "ok", each on a connection of its own.
func (c Client) Impair(ctx context.Context, req ImpairRequest) error {
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("machine: impair: %w", err)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Base+"/impair", bytes.NewReader(body))
	if err != nil {
		return err
	}
	hr.Close = true
	resp, err := c.do(hr)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("machine: impair: %s", resp.Status)
	}
	var last error
	for {
		st, err := c.impairStatus(ctx)
		switch {
		case err == nil && st == "ok":
			return nil
		case err == nil && st != "splicing":
			return fmt.Errorf("machine: %s", st)
		case err != nil:
			last = err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("machine: impair: no answer through the spliced link (last: %v): %w", last, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (c Client) impairStatus(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Base+"/impair", nil)
	if err != nil {
		return "", err
	}
	req.Close = true
	resp, err := c.do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if err := status(resp, "impair"); err != nil {
		return "", err
	}
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}
