package tenant

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/c2clab/c2clab/sim/code"
	"github.com/c2clab/c2clab/sim/device"
	"github.com/c2clab/c2clab/sim/domain"
	"github.com/c2clab/c2clab/sim/policy"
)

// tests converts the tests: section, loading each device file once.
func (l *loader) tests() []Test {
	names := map[string]bool{}
	var out []Test
	for i, ft := range l.f.Tests {
		field := fmt.Sprintf("tests[%d]", i)
		t := Test{Name: strings.TrimSpace(ft.Name), User: strings.TrimSpace(ft.User), To: strings.TrimSpace(ft.To)}
		if n := l.doc.Node(field); n != nil {
			t.Where = fmt.Sprintf("%s:%d", l.doc.Path, n.Line)
		}
		nerr := len(l.errs)
		switch {
		case t.Name == "":
			l.errorf(field+".name", "missing; want a sentence saying what the test shows")
		case names[t.Name]:
			l.errorf(field+".name", "test name %q is used twice; names must be unique", t.Name)
		}
		names[t.Name] = true
		l.testTarget(field, ft, &t)
		l.testExpect(field, ft, &t)
		if ft.From != "" {
			t.From = l.device(field+".from", ft.From)
		}
		if t.User == "" && t.From != nil {
			t.User = t.From.User
		}
		if t.User == "" && len(l.errs) == nerr {
			l.errorf(field+".user", "missing; want the ZPA user making the connection (or a from: device with a user)")
		}
		for j, p := range ft.Devices {
			t.Devices = append(t.Devices, l.device(fmt.Sprintf("%s.devices[%d]", field, j), p))
		}
		if len(l.errs) == nerr {
			out = append(out, t)
		}
	}
	return out
}

func (l *loader) testTarget(field string, ft fileTest, t *Test) {
	fqdn, port, err := ParseTarget(ft.To)
	if err != nil {
		l.errorf(field+".to", "%w", err)
	}
	t.FQDN, t.Port = fqdn, port
	switch p := strings.ToLower(strings.TrimSpace(ft.Proto)); p {
	case "", "tcp":
		t.Proto = "tcp"
	case "udp":
		t.Proto = p
	default:
		l.errorf(field+".proto", "is %q, want tcp (default) or udp", ft.Proto)
	}
}

func (l *loader) testExpect(field string, ft fileTest, t *Test) {
	switch strings.ToLower(strings.TrimSpace(ft.Expect)) {
	case "allow":
		t.ExpectAllow, t.Expect = true, policy.VerdictAllowed
	case "deny":
		t.Expect = policy.VerdictDenied
	case "undecided":
		t.Expect = policy.VerdictUndecided
	default:
		l.errorf(field+".expect", "is %q, want allow, deny or undecided (an access rule needs an attribute the test does not describe, POL-4)", ft.Expect)
	}
	if s := strings.TrimSpace(ft.At); s != "" {
		at, err := parseTime(s)
		if err != nil {
			l.errorf(field+".at", "is %q, want an RFC 3339 time such as 2026-12-01T10:00:00Z or epoch seconds", ft.At)
		}
		t.At = at
	}
	c := code.Code(strings.TrimSpace(ft.Code))
	switch {
	case c == "":
	case !c.Known():
		l.errorf(field+".code", "%q is not a code the lab knows; want one of docs/CODES.md, e.g. %s", string(c), code.C2CClientNotFound)
	case t.ExpectAllow:
		l.errorf(field+".code", "is %q but expect is allow; an allowed connection has no code", string(c))
	case t.Expect == policy.VerdictUndecided && c != code.BrkPolicyUndecided:
		l.errorf(field+".code", "is %q but expect is undecided, whose code is %s", string(c), code.BrkPolicyUndecided)
	}
	t.Code = c
}

// device loads a device file named relative to the tenant file.
func (l *loader) device(field, name string) *device.Profile {
	p, err := l.files.resolve(name)
	if err != nil {
		l.errorf(field, "device file %q: %w", name, err)
		return nil
	}
	if d, ok := l.devices[p]; ok {
		return d
	}
	d, err := l.files.load(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			l.fail(field, fmt.Sprintf("device file %q (%s) does not exist; paths are relative to the tenant file", name, p), err)
		} else {
			l.errorf(field, "device file %q: %w", name, err)
		}
		return nil
	}
	l.devices[p] = d
	return d
}

// deviceFiles is where device files named in tests: come from.
type deviceFiles struct {
	// resolve turns a name as written into the path load takes.
	resolve func(name string) (string, error)
	load    func(path string) (*device.Profile, error)
}

// osFiles reads device files from disk, relative to dir unless absolute.
func osFiles(dir string, load func(string) (*device.Profile, error)) deviceFiles {
	return deviceFiles{
		resolve: func(name string) (string, error) {
			if filepath.IsAbs(name) {
				return filepath.Clean(name), nil
			}
			return filepath.Clean(filepath.Join(dir, filepath.FromSlash(name))), nil
		},
		load: load,
	}
}

// fsFiles reads device files from fsys, relative to dir (slash-separated).
func fsFiles(fsys fs.FS, dir string) deviceFiles {
	return deviceFiles{
		resolve: func(name string) (string, error) {
			p := path.Join(dir, name)
			if path.IsAbs(name) || !fs.ValidPath(p) {
				return "", fmt.Errorf("leaves the file system the tenant was read from; want a path relative to the tenant file inside it")
			}
			return p, nil
		},
		load: func(p string) (*device.Profile, error) {
			data, err := fs.ReadFile(fsys, p)
			if err != nil {
				return nil, err
			}
			return device.Parse(p, data)
		},
	}
}

// ParseTarget splits a destination written host:port (e.g.
// desktop-10B38-AC.example.com:3389) and checks both parts.
func ParseTarget(s string) (fqdn string, port uint16, err error) {
	const want = "want host:port such as desktop-10B38-AC.example.com:3389"
	host, ps, err := net.SplitHostPort(strings.TrimSpace(s))
	if err != nil {
		return "", 0, fmt.Errorf("%q is not host:port; %s", s, want)
	}
	if strings.ContainsAny(host, "*?") {
		return "", 0, fmt.Errorf("%q: a destination is one host, not a wildcard or pattern; %s", s, want)
	}
	if !domain.ValidName(host) {
		_, err := domain.Parse(host)
		return "", 0, fmt.Errorf("%q: host: %w", s, err)
	}
	n, err := strconv.Atoi(ps)
	if err != nil || n < 1 || n > 65535 {
		return "", 0, fmt.Errorf("%q: port %q is not 1-65535; %s", s, ps, want)
	}
	return host, uint16(n), nil
}
