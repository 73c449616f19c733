package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"time"

	"github.com/c2clab/c2clab/sim/lab"
	"github.com/c2clab/c2clab/sim/measure"
)

// agreement measures the relayed path with iperf3 and with the lab's probe,
// alternating, Count times each. Both go from the bench to a forward of the
// admin's agent, which tunnels to the desktop: iperf3 -s on the desktop's
// machine, or the desktop's bulk service. Both directions are "down": the
// desktop sends (iperf3 -R).
func (b *bench) agreement(ctx context.Context, c Config) (Agreement, error) {
	if err := b.backend.Supports(lab.FeatureHostCommands); err != nil {
		return Agreement{Note: fmt.Sprintf("iperf3 not measured: it cannot run on the admin's and the desktop's machines: %v", err)}, nil
	}
	if _, err := exec.LookPath("iperf3"); err != nil {
		return Agreement{Note: "iperf3 " + errNotInstalled.Error()}, nil
	}
	srv := b.desktop.Command(context.WithoutCancel(ctx), "iperf3", "-s", "-B", b.desktop.InterfaceIP.String(), "-p", strconv.Itoa(iperfPort))
	if err := b.helper(ctx, srv, b.deviceAddr(iperfPort)); err != nil {
		return Agreement{}, fmt.Errorf("bench: iperf3 server: %w", err)
	}
	iperfFwd, err := b.admin.ForwardAddr(b.target(iperfPort))
	if err != nil {
		return Agreement{}, fmt.Errorf("bench: %w", err)
	}
	probeFwd, err := b.admin.ForwardAddr(b.target(bulkPort))
	if err != nil {
		return Agreement{}, fmt.Errorf("bench: %w", err)
	}
	a := Agreement{Available: true}
	secs := c.IperfSeconds
	for round := range c.Count {
		bps, err := iperf3Client(ctx, b.admin, iperfFwd, secs)
		if err != nil {
			return a, fmt.Errorf("bench: iperf3 run %d: %w", round+1, err)
		}
		a.Iperf3 = append(a.Iperf3, bps)
		s, err := probeFor(ctx, b.fromAdmin(probeFwd), time.Duration(secs)*time.Second, uint64(1000+round))
		if err != nil {
			return a, fmt.Errorf("bench: probe run %d through the forward: %w", round+1, err)
		}
		a.Probe = append(a.Probe, s)
	}
	return a, nil
}

// probeFor streams down for d after the probe's warm-up.
func probeFor(ctx context.Context, dial measure.Dialer, d time.Duration, seed uint64) (Sample, error) {
	conn, err := dial(ctx)
	if err != nil {
		return Sample{}, err
	}
	defer conn.Close()
	r, err := measure.Throughput(ctx, conn, measure.ThroughputConfig{Direction: measure.Down, Duration: d, Seed: seed})
	return Sample{Bytes: r.Bytes, Interval: r.Interval}, err
}

// iperf3Client runs one reverse (server sends) iperf3 test of secs seconds
// after a first second it leaves out, as the probe leaves out its warm-up,
// and returns the receiver's rate. It runs on the admin's machine, where
// the probe's sockets are made too.
func iperf3Client(ctx context.Context, admin *lab.Device, addr string, secs int) (float64, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, err
	}
	out, err := admin.Command(ctx, "iperf3", "-c", host, "-p", port, "-R", "-J", "-O", "1", "-t", strconv.Itoa(secs)).Output()
	bps, perr := parseIperf3(out)
	if err != nil {
		return 0, errors.Join(err, perr)
	}
	return bps, perr
}

// parseIperf3 reads the receiver's rate from iperf3 -J output.
func parseIperf3(out []byte) (float64, error) {
	var j struct {
		Error string `json:"error"`
		End   struct {
			SumReceived struct {
				BitsPerSecond float64 `json:"bits_per_second"`
			} `json:"sum_received"`
		} `json:"end"`
	}
	if err := json.Unmarshal(out, &j); err != nil {
		return 0, fmt.Errorf("iperf3 -J output: %w", err)
	}
	if j.Error != "" {
		return 0, fmt.Errorf("iperf3: %s", j.Error)
	}
	if j.End.SumReceived.BitsPerSecond <= 0 {
		return 0, errors.New("iperf3 -J output: no end.sum_received.bits_per_second")
	}
	return j.End.SumReceived.BitsPerSecond, nil
}
