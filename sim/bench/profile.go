package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/c2clab/c2clab/sim/measure"
)

// profiles takes CPU profiles of the relay's nodes (their /debug/pprof/,
// sim/node.DebugEnv) under each of the latency loads bench measures:
// round trips on one connection, then setups one after another. The
// loads run only while the profiles are taken, after every measurement,
// so nothing here changes a result. Files: DIR/LOAD-NODE.pprof, read
// with `go tool pprof -top c2clab DIR/setup-broker.pprof`.
func (b *bench) profiles(ctx context.Context, c Config, p *progress) error {
	if len(b.relayDebug) == 0 {
		return errors.New("bench: --profile: the relay's nodes serve no debug address")
	}
	if err := os.MkdirAll(c.Profile, 0o755); err != nil {
		return fmt.Errorf("bench: --profile: %w", err)
	}
	loads := []struct {
		name string
		run  func(ctx context.Context) error
	}{
		{"roundtrip", b.roundTripLoad},
		{"setup", b.setupLoad},
	}
	for _, l := range loads {
		p.step("relay: %d s CPU profiles of its nodes under %s load", c.ProfileSeconds, l.name)
		if err := b.profileUnder(ctx, c, l.name, l.run); err != nil {
			return fmt.Errorf("bench: --profile %s: %w", l.name, err)
		}
	}
	return nil
}

// profileUnder fetches one profile per relay node while load runs again
// and again, and stops the load once every profile is in.
func (b *bench) profileUnder(ctx context.Context, c Config, name string, load func(context.Context) error) error {
	lctx, stop := context.WithCancel(ctx)
	defer stop()
	loadErr := make(chan error, 1)
	go func() {
		for lctx.Err() == nil {
			if err := load(lctx); err != nil && lctx.Err() == nil {
				loadErr <- err
				return
			}
		}
		loadErr <- nil
	}()
	var wg sync.WaitGroup
	errs := make(chan error, len(b.relayDebug))
	for node, addr := range b.relayDebug {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path := filepath.Join(c.Profile, name+"-"+node+".pprof")
			if err := fetchProfile(ctx, addr, c.ProfileSeconds, path); err != nil {
				errs <- fmt.Errorf("%s: %w", node, err)
			}
		}()
	}
	wg.Wait()
	stop()
	close(errs)
	err := errors.Join(<-loadErr)
	for e := range errs {
		err = errors.Join(err, e)
	}
	return err
}

// roundTripLoad is 100 round trips on one relayed connection.
func (b *bench) roundTripLoad(ctx context.Context) error {
	conn, err := b.echo[PathRelay](ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	_, err = measure.Latency(ctx, conn, measure.LatencyConfig{Count: 100})
	return err
}

// setupLoad is 10 relayed setups one after another.
func (b *bench) setupLoad(ctx context.Context) error {
	_, err := measure.Setup(ctx, b.echo[PathRelay], measure.SetupConfig{Count: 10})
	return err
}

// fetchProfile writes the CPU profile of seconds from the node serving
// addr to path.
func fetchProfile(ctx context.Context, addr string, seconds int, path string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(seconds+30)*time.Second)
	defer cancel()
	url := "http://" + addr + "/debug/pprof/profile?seconds=" + strconv.Itoa(seconds)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
