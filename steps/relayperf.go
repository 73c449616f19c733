package steps

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/c2clab/c2clab/sim/lab"
	"github.com/c2clab/c2clab/sim/measure"
	"github.com/c2clab/c2clab/sim/tenant"
)

// perf holds what the relay performance steps measured, per path.
type perf struct {
	tput  map[string][]measure.ThroughputResult // "relay", "direct"
	setup *measure.SetupResult
	// rttBlocks holds the interleaved round-trip blocks per path
	// ("relay", "reference"), see measuresRoundTripsAgainstReference.
	rttBlocks map[string][]measure.Distribution
}

// paths are the two ways to a device service a scenario compares: through
// the admin's agent and the broker, and straight from the runner to the
// device's interface IP over the same network, with no relay.
func (w *world) paths(ctx context.Context, from, target string) (map[string]measure.Dialer, error) {
	src, err := w.device(from)
	if err != nil {
		return nil, err
	}
	host, port, err := tenant.ParseTarget(target)
	if err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	dst, err := w.deviceByFQDN(host)
	if err != nil {
		return nil, err
	}
	direct := netip.AddrPortFrom(dst.InterfaceIP, port).String()
	return map[string]measure.Dialer{
		"relay": func(ctx context.Context) (net.Conn, error) { return src.Dial(ctx, host, port) },
		"direct": func(ctx context.Context) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", direct)
		},
	}, nil
}

func throughputOnce(ctx context.Context, dial measure.Dialer, cfg measure.ThroughputConfig) (measure.ThroughputResult, error) {
	c, err := dial(ctx)
	if err != nil {
		return measure.ThroughputResult{}, err
	}
	defer c.Close()
	return measure.Throughput(ctx, c, cfg)
}

func mbitsList(rs []measure.ThroughputResult) string {
	s := ""
	for i, r := range rs {
		if i > 0 {
			s += ", "
		}
		s += strconv.FormatFloat(r.BitsPerSecond()/1e6, 'f', 0, 64)
	}
	return s
}

func medianBits(rs []measure.ThroughputResult) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = r.BitsPerSecond()
	}
	slices.Sort(v)
	return v[len(v)/2]
}

// opensConnections measures the setup of n connections through the relay:
// from the SOCKS request to the first byte back from the service.
func opensConnections(ctx context.Context, from string, n int, target string) error {
	w := getWorld(ctx)
	paths, err := w.paths(ctx, from, target)
	if err != nil {
		return err
	}
	seed := w.seeds.next(1)
	r, err := measure.Setup(ctx, paths["relay"], measure.SetupConfig{Count: n, Seed: seed})
	if err != nil {
		return fmt.Errorf("setup through the relay: %w", err)
	}
	w.perf.setup = &r
	d := r.FirstByte
	note(ctx, "%d connections through the relay, request to first byte from the service: p50 %s, p90 %s, p99 %s, max %s", d.Count, d.P50, d.P90, d.P99, d.Max)
	return nil
}

func setupBelow(ctx context.Context, ms int) error {
	s := getWorld(ctx).perf.setup
	if s == nil {
		return errors.New("open the connections first")
	}
	if p50 := s.FirstByte.P50; p50 >= time.Duration(ms)*time.Millisecond {
		return fmt.Errorf("connection setup p50 %s, want below %d ms", p50, ms)
	}
	return nil
}

// deviceByFQDN finds the running device that reports fqdn.
func (w *world) deviceByFQDN(fqdn string) (*lab.Device, error) {
	for _, decl := range w.setup.devices {
		if decl.profile.ReportedFQDN() == fqdn {
			return w.device(decl.profile.Name)
		}
	}
	return nil, fmt.Errorf("no device reports %q", fqdn)
}
