package lab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/c2clab/c2clab/sim/netlab"
)

// netnsPlacer gives every machine its own network namespace on one CNI
// network of the run, so each has its own stack and interface address.
type netnsPlacer struct {
	lab     *netlab.Lab
	network string

	mu  sync.Mutex // guards seq
	seq int        // makes host names unique after sanitising
}

// labNetwork is the name of the one network every machine joins.
const labNetwork = "lan"

func newNetnsPlacer(ctx context.Context, runID, cniBin string, conflist []byte) (placer, error) {
	if cniBin == "" {
		cniBin = DefaultCNIBinDir()
	}
	if err := netlab.BuildPlugins(ctx, cniBin); err != nil {
		return nil, fmt.Errorf("lab: CNI plugins: %w", err)
	}
	nl, err := netlab.New(runID, cniBin)
	if err != nil {
		return nil, err
	}
	if _, err := nl.AddNetwork(ctx, labNetwork, conflist); err != nil {
		nl.Close()
		return nil, err
	}
	return &netnsPlacer{lab: nl, network: labNetwork}, nil
}

func (p *netnsPlacer) place(ctx context.Context, name string) (host, error) {
	p.mu.Lock()
	p.seq++
	seq := p.seq
	p.mu.Unlock()
	h, err := p.lab.AddHost(ctx, hostName(name, seq), p.network)
	if err != nil {
		return host{}, err
	}
	ns := h.NS
	return host{
		name: h.Name,
		addr: h.Addrs[p.network],
		wrap: func(cmd []string) []string { return append([]string{"ip", "netns", "exec", ns}, cmd...) },
	}, nil
}

func (p *netnsPlacer) impair(ctx context.Context, h host, imp netlab.Impairment, start netlab.EmuStarter) error {
	_, err := p.lab.Impair(ctx, h.name, p.network, imp, start)
	return err
}

func (p *netnsPlacer) close() error { return p.lab.Close() }

// hostName makes a node name fit netlab's rule ([a-z0-9-], short): lower
// case, other characters to '-', cut, and a sequence number for uniqueness.
func hostName(name string, seq int) string {
	s := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return '-'
	}, name)
	s = strings.Trim(s, "-")
	if len(s) > 24 {
		s = s[:24]
	}
	return fmt.Sprintf("%s-%d", s, seq)
}

// DefaultCNIBinDir is where the lab builds and keeps the CNI plugins.
func DefaultCNIBinDir() string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "c2clab", "cni")
	}
	// Not a predictable path under /tmp: the plugins run as root.
	return "/var/cache/c2clab/cni"
}

// sweepNetwork removes what a run made in the kernel: namespaces, links,
// firewall rules, IPAM state.
func sweepNetwork(runID string) error {
	_, err := netlab.Sweep(runID)
	return err
}
