package zpaapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Body is one API answer, byte for byte.
type Body struct {
	Resource string // Resource.Name
	IdPID    string // for PerIdP resources
	Page     int    // 1.. for paged resources, 0 otherwise
	Endpoint string // path and query as requested, no host
	File     string // Resource.File(IdPID, Page)
	Data     []byte
}

// Skipped is an Optional resource the tenant refused.
type Skipped struct {
	Resource string
	Endpoint string
	Status   int
	Reason   string
}

// Result is everything one pull fetched.
type Result struct {
	Bodies  []Body
	Skipped []Skipped
}

// maxPages bounds a paged collection so a broken totalPages cannot loop.
const maxPages = 10000

// Pull signs in and fetches every collection of Resources, all pages of
// each. Every failure is an error: a tenant with a page missing is never
// returned. Errors and Logf lines carry no credential.
func Pull(ctx context.Context, cfg Config) (*Result, error) {
	cl, err := newClient(cfg)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	var idpIDs []string
	for _, r := range Resources {
		if !r.PerIdP {
			if err := cl.pullResource(ctx, res, r, ""); err != nil {
				return nil, cl.red.wrap(err)
			}
			if r.Name == "idp" {
				if idpIDs, err = listIDs(res.Bodies, "idp"); err != nil {
					return nil, err
				}
			}
			continue
		}
		for _, id := range idpIDs {
			if err := cl.pullResource(ctx, res, r, id); err != nil {
				return nil, cl.red.wrap(err)
			}
		}
	}
	return res, nil
}

func (cl *client) pullResource(ctx context.Context, res *Result, r Resource, idpID string) error {
	path := r.path(cl.cfg.CustomerID, idpID)
	if !r.Paged {
		data, endpoint, err := cl.get(ctx, path, nil)
		if skip, ok := optionalSkip(r, endpoint, err); ok {
			res.Skipped = append(res.Skipped, skip)
			return nil
		}
		if err != nil {
			return err
		}
		res.Bodies = append(res.Bodies, Body{Resource: r.Name, IdPID: idpID, Endpoint: endpoint, File: r.File(idpID, 0), Data: data})
		return nil
	}
	total := 1
	for page := 1; page <= total; page++ {
		q := url.Values{"page": {strconv.Itoa(page)}, "pagesize": {strconv.Itoa(cl.cfg.pageSize())}}
		data, endpoint, err := cl.get(ctx, path, q)
		if skip, ok := optionalSkip(r, endpoint, err); ok && page == 1 {
			res.Skipped = append(res.Skipped, skip)
			return nil
		}
		if err != nil {
			return err
		}
		n, err := totalPages(data)
		if err != nil {
			return fmt.Errorf("zpaapi: GET %s: %w", endpoint, err)
		}
		if page == 1 {
			total = max(n, 1)
		} else if n != total {
			return fmt.Errorf("zpaapi: GET %s: totalPages is now %d, was %d on page 1: the tenant changed during the pull; pull again", endpoint, n, total)
		}
		if total > maxPages {
			return fmt.Errorf("zpaapi: GET %s: totalPages %d is more than %d; raise Config.PageSize", endpoint, total, maxPages)
		}
		res.Bodies = append(res.Bodies, Body{Resource: r.Name, IdPID: idpID, Page: page, Endpoint: endpoint, File: r.File(idpID, page), Data: data})
	}
	return nil
}

// optionalSkip turns a 403 or 404 of an Optional resource into a Skipped.
func optionalSkip(r Resource, endpoint string, err error) (Skipped, bool) {
	var he *HTTPError
	if !r.Optional || !errors.As(err, &he) || (he.Status != http.StatusForbidden && he.Status != http.StatusNotFound) {
		return Skipped{}, false
	}
	return Skipped{Resource: r.Name, Endpoint: endpoint, Status: he.Status, Reason: he.Detail}, true
}

// totalPages reads a page's totalPages, a string on /mgmtconfig ("2"), a
// number on /userconfig (2). A body without it is one page.
func totalPages(data []byte) (int, error) {
	var p struct {
		TotalPages json.RawMessage `json:"totalPages"`
	}
	if err := json.Unmarshal(data, &p); err != nil {
		return 0, fmt.Errorf("answer is not a JSON object with totalPages: %w", err)
	}
	if len(p.TotalPages) == 0 {
		return 1, nil
	}
	s := strings.Trim(string(p.TotalPages), `"`)
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("totalPages %s is not a whole number", p.TotalPages)
	}
	return n, nil
}

// listIDs collects list[].id of every page of a resource (IDs are strings
// on /mgmtconfig, numbers on /userconfig).
func listIDs(bodies []Body, resource string) ([]string, error) {
	var ids []string
	for _, b := range bodies {
		if b.Resource != resource {
			continue
		}
		var p struct {
			List []struct {
				ID json.RawMessage `json:"id"`
			} `json:"list"`
		}
		if err := json.Unmarshal(b.Data, &p); err != nil {
			return nil, fmt.Errorf("zpaapi: GET %s: list is not a list of objects with an id: %w", b.Endpoint, err)
		}
		for _, o := range p.List {
			id := strings.Trim(string(o.ID), `"`)
			if id == "" || id == "null" {
				return nil, fmt.Errorf("zpaapi: GET %s: an entry of list has no id", b.Endpoint)
			}
			ids = append(ids, id)
		}
	}
	return ids, nil
}
