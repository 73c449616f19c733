package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/c2clab/c2clab/sim/agent"
	"github.com/c2clab/c2clab/sim/broker"
)

var httpClient = &http.Client{Timeout: 10 * time.Second}

// getJSON fetches url into v, with the bearer token when one is given.
func getJSON(ctx context.Context, url, token string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("get %q: %w", url, err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return fmt.Errorf("get %q: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("get %q: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("get %q: decode: %w", url, err)
	}
	return nil
}

// Admin is a client of the broker's admin API.
type Admin struct {
	Addr  string `json:"addr"`
	Token string `json:"token"`
}

// adminFile keeps a run's Admin in its directory (0600, like the keys), so
// the CLI can read a running lab's diagnostics.
const adminFile = "admin.json"

// UserStatus reads the broker's User Status diagnostics.
func (a Admin) UserStatus(ctx context.Context) ([]broker.UserStatus, error) {
	var out []broker.UserStatus
	return out, getJSON(ctx, "http://"+a.Addr+"/api/v1/userStatus", a.Token, &out)
}

// Activity reads the broker's User Activity log.
func (a Admin) Activity(ctx context.Context) ([]broker.Activity, error) {
	var out []broker.Activity
	return out, getJSON(ctx, "http://"+a.Addr+"/api/v1/userActivity", a.Token, &out)
}

// Admin returns the client of this lab's broker admin API.
func (l *Lab) Admin() Admin { return l.admin }

// UserStatus reads the broker's User Status diagnostics.
func (l *Lab) UserStatus(ctx context.Context) ([]broker.UserStatus, error) {
	return l.admin.UserStatus(ctx)
}

// Activity reads the broker's User Activity log.
func (l *Lab) Activity(ctx context.Context) ([]broker.Activity, error) {
	return l.admin.Activity(ctx)
}

// Admin reads the admin API client of a run found on disk.
func (r Run) Admin() (Admin, error) {
	var a Admin
	if err := readJSON(filepath.Join(r.Dir, adminFile), &a); err != nil {
		return a, fmt.Errorf("run %s: admin API: %w", r.ID, err)
	}
	return a, nil
}

// Status reads the device agent's status API.
func (d *Device) Status(ctx context.Context) (agent.Status, error) {
	var st agent.Status
	a, err := d.agent.addr("status")
	if err != nil {
		return st, err
	}
	return st, getJSON(ctx, "http://"+a+"/status", "", &st)
}

// Dial connects through the device's agent to fqdn:port, as an unmodified
// SOCKS5 client on the device would.
func (d *Device) Dial(ctx context.Context, fqdn string, port uint16) (net.Conn, error) {
	a, err := d.agent.addr("socks")
	if err != nil {
		return nil, err
	}
	return DialSOCKS(ctx, a, fqdn, port)
}

// ForwardAddr is where the agent listens for connections it tunnels to
// target ("FQDN:PORT"), if the device was added with that forward.
func (d *Device) ForwardAddr(target string) (string, error) { return d.agent.addr("forward:" + target) }

// SOCKSAddr is the agent's SOCKS5 address.
func (d *Device) SOCKSAddr() string { a, _ := d.agent.addr("socks"); return a }

// StatusAddr is the agent's status API address.
func (d *Device) StatusAddr() string { a, _ := d.agent.addr("status"); return a }
