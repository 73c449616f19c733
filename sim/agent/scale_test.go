package agent

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/c2clab/c2clab/sim/broker"
	"github.com/c2clab/c2clab/sim/peer"
	"github.com/c2clab/c2clab/sim/pki"
	"github.com/c2clab/c2clab/sim/wire"
)

// swarmEnv re-executes the test binary as a swarm: many registered agents
// in one process, apart from the broker, so that the broker's memory can
// be read from this process's heap.
const swarmEnv = "C2CLAB_TEST_SWARM"

func TestMain(m *testing.M) {
	if dir := os.Getenv(swarmEnv); dir != "" {
		os.Exit(runSwarm(dir))
	}
	os.Exit(m.Run())
}

// swarmSpec is what the swarm process reads from its directory.
type swarmSpec struct {
	Broker peer.BrokerAddrs
	Trust  string
	N      int
}

// swarmInFlight bounds the registrations a swarm has under way at once, as
// a fleet's agents do not all start in the same millisecond. On the loaded
// 2-core machine 256 at once collapsed (630 of 10,000 registered in 15
// minutes: the handshakes outlast wire.HelloTimeout and retry), 64 did not
// (docs/PERFORMANCE.md).
const swarmInFlight = 64

// runSwarm loads N agents (certificates a0..aN-1 in dir), says "ready" on
// stdout, and on the first byte of stdin registers them, at most
// swarmInFlight at a time, keeping them registered until its stdin
// closes. Loading first keeps the process's start and the reading of N
// key pairs out of the registration time: each device of a fleet loads
// its own keys long before it connects.
func runSwarm(dir string) int {
	var spec swarmSpec
	b, err := os.ReadFile(filepath.Join(dir, "swarm.json"))
	if err == nil {
		err = json.Unmarshal(b, &spec)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "swarm:", err)
		return 2
	}
	clients, err := loadSwarm(dir, spec)
	if err != nil {
		fmt.Fprintln(os.Stderr, "swarm:", err)
		return 1
	}
	if path := os.Getenv("C2CLAB_SWARM_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil && pprof.StartCPUProfile(f) == nil {
			defer pprof.StopCPUProfile()
		}
	}
	fmt.Println("ready")
	in := bufio.NewReader(os.Stdin)
	if _, err := in.ReadByte(); err != nil {
		return 0 // stopped before it started
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Registering runs beside the wait for stdin, so that the test can
	// end the swarm before every agent has started.
	go startSwarm(ctx, clients)
	io.Copy(io.Discard, in)
	return 0
}

// loadSwarm makes the spec.N agents, each with its key pair and trust
// bundle loaded.
func loadSwarm(dir string, spec swarmSpec) ([]*peer.Client, error) {
	clients := make([]*peer.Client, spec.N)
	for i := range clients {
		c, err := peer.New(peer.Config{Role: wire.RoleAgent, Broker: spec.Broker, CAFile: spec.Trust,
			CertFile: filepath.Join(dir, fmt.Sprintf("a%d.crt", i)), KeyFile: filepath.Join(dir, fmt.Sprintf("a%d.key", i)),
			Software: Software, Logger: testLogger(nil),
			Register: wire.Register{FQDN: fmt.Sprintf("swarm-%d.example.com", i), OS: "windows", Platform: "windows",
				ConnectorVersion: "4.5.0.300", JoinState: "ad", LoggedIn: true, PrivateAccess: true, User: "u@example.com"}})
		if err != nil {
			return nil, err
		}
		clients[i] = c
	}
	return clients, nil
}

// startSwarm runs the clients, at most swarmInFlight registering at once,
// until ctx ends, and says "registered" on stdout once every one of them
// has been registered (has the broker's answer to its register): the
// test's clock. Polling User Status for N sessions until all are there
// was itself broker work, and its decoding ran in the broker's process,
// so it counted as the broker's CPU.
func startSwarm(ctx context.Context, clients []*peer.Client) {
	slots := make(chan struct{}, swarmInFlight)
	var wg sync.WaitGroup
	wg.Add(len(clients))
	go func() {
		wg.Wait()
		if ctx.Err() == nil {
			fmt.Println("registered")
		}
	}()
	for _, c := range clients {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		go c.Run(ctx)
		go func() { <-c.FirstAttempt(); <-slots }()
		go func() {
			if _, err := c.Session(ctx); err == nil {
				wg.Done()
			}
		}()
	}
}

// TestScale registers 10, 100, 1,000 and 10,000 agents from another
// process and reports registrations per second, the broker's memory per
// registered agent, and connection setup through the relay with that many
// registered. A perf run:
//
//	C2CLAB_PERF=1 go test -run 'TestScale$' -v ./sim/agent
//	C2CLAB_PERF=1 C2CLAB_SCALE_N=10,10000 go test -timeout 30m -run 'TestScale$' -v ./sim/agent
func TestScale(t *testing.T) {
	if os.Getenv("C2CLAB_PERF") == "" {
		t.Skip("perf run: set C2CLAB_PERF=1")
	}
	for _, n := range scaleSizes(t) {
		t.Run(strconv.Itoa(n), func(t *testing.T) { scaleRun(t, n) })
	}
}

// scaleSizes are the swarm sizes: C2CLAB_SCALE_N (comma-separated), else
// 10, 100, 1,000 and 10,000.
func scaleSizes(t *testing.T) []int {
	v := os.Getenv("C2CLAB_SCALE_N")
	if v == "" {
		return []int{10, 100, 1000, 10000}
	}
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			t.Fatalf("C2CLAB_SCALE_N=%q: %q is not a positive number of agents", v, f)
		}
		out = append(out, n)
	}
	return out
}

func scaleRun(t *testing.T, n int) {
	e := newEnv(t, testPolicy())
	socks, _, _ := e.pair()
	port := serveCheck(t, "127.0.0.3:0")
	before := heapInUse()
	start, stop := e.swarm(n) // issues the certificates and loads the agents first: not timed
	defer stop()
	startAt, cpu0 := time.Now(), cpuNow()
	registered := start()
	select {
	case <-registered:
	case <-time.After(20 * time.Minute):
		t.Fatalf("not all %d swarm agents registered after 20 minutes", n)
	}
	took, brokerCPU := time.Since(startAt), cpuNow()-cpu0
	// The broker's view: its User Status lists every swarm session as
	// connected (it records a session before it answers the register).
	if _, ok := e.waitSwarm(n, time.Now(), 2*time.Minute); !ok {
		t.Fatalf("the swarm said all %d registered, User Status did not list them connected 2 minutes later", n)
	}
	grew := heapInUse() - before
	t.Logf("%5d agents: registered in %s (%.0f/s); broker CPU per registration %.2f ms (this process); broker heap +%.1f MiB (%.1f KiB per agent); load %s",
		n, took.Round(time.Millisecond), float64(n)/took.Seconds(), brokerCPU.Seconds()*1000/float64(n),
		float64(grew)/(1<<20), float64(grew)/1024/float64(n), loadAvg())
	if _, ok := e.waitPair(2 * time.Minute); !ok {
		t.Fatalf("with %d registered, the reference pair's sessions were not connected 2 minutes later: %s", n, e.pairStatus())
	}
	setup := setupTimes(t, socks, port, 200)
	swarmCPU := stop() // includes the keepalives until now
	t.Logf("%5d agents: setup p50 %s p99 %s; swarm CPU %.2f ms per agent; load %s",
		n, setup[len(setup)/2], setup[len(setup)*99/100], swarmCPU.Seconds()*1000/float64(n), loadAvg())
}

// pairStatus is what User Status says of the reference pair.
func (e *env) pairStatus() string {
	var st []broker.UserStatus
	getJSON(e.t, "http://"+e.broker["admin"]+"/api/v1/userStatus", e.token, &st)
	var out []string
	for _, s := range st {
		if !strings.HasPrefix(s.Device, "swarm-") {
			out = append(out, fmt.Sprintf("%s connected=%v registered=%v error=%q", s.Device, s.Connected, s.FQDNRegistered, s.FQDNRegisteredError))
		}
	}
	return fmt.Sprintf("%d sessions listed, the pair's: %v", len(st), out)
}

// cpuNow is processCPU (cpu_*_test.go), 0 where it cannot be read.
func cpuNow() time.Duration { d, _ := processCPU(); return d }

// loadAvg is the machine's 1-, 5- and 15-minute load average.
func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// swarm issues n agent certificates and starts the swarm process, which
// loads its agents and waits; start makes it register them and returns a
// channel closed when the swarm says every agent has registered; stop
// ends it (once; later calls return 0) and returns the
// CPU time it spent, the loading of its agents included.
func (e *env) swarm(n int) (start func() <-chan struct{}, stop func() time.Duration) {
	dir := e.t.TempDir()
	for i := range n {
		c, k, err := e.tenant.Issue(pki.Identity{Tenant: "acme", Name: fmt.Sprintf("swarm-%d", i), Kind: pki.KindAgent}, false)
		if err != nil {
			e.t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("a%d.crt", i)), c, 0o600)
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("a%d.key", i)), k, 0o600)
	}
	spec, _ := json.Marshal(swarmSpec{Broker: peer.BrokerAddrs{Control: e.broker["control"], Data: e.broker["data"], ServerName: "broker"}, Trust: e.trust, N: n})
	os.WriteFile(filepath.Join(dir, "swarm.json"), spec, 0o600)
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), swarmEnv+"="+dir)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		e.t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		e.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	var once sync.Once
	stop = func() (cpu time.Duration) {
		once.Do(func() {
			in.Close()
			cmd.Wait()
			cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		})
		return cpu
	}
	start = func() <-chan struct{} {
		r := bufio.NewReader(out)
		line, err := r.ReadString('\n')
		if err != nil || line != "ready\n" {
			stop()
			e.t.Fatalf("swarm of %d did not get ready: %q, %v", n, line, err)
		}
		if _, err := in.Write([]byte("g")); err != nil {
			stop()
			e.t.Fatalf("start the swarm: %v", err)
		}
		registered := make(chan struct{})
		go func() {
			if line, _ := r.ReadString('\n'); line == "registered\n" {
				close(registered)
			}
			io.Copy(io.Discard, r) // nothing else is expected; never let the pipe fill
		}()
		return registered
	}
	return start, stop
}

// waitSwarm polls User Status until n swarm agents are connected and
// returns how long that took from start; it fails the test after limit.
// The reference pair's sessions are not counted: under a loaded machine
// their keepalives may time out while 10,000 register, and setupTimes
// then waits for them itself.
func (e *env) waitSwarm(n int, start time.Time, limit time.Duration) (time.Duration, bool) {
	return e.waitCount(func(s broker.UserStatus) bool { return strings.HasPrefix(s.Device, "swarm-") }, n, start, limit)
}

// waitPair waits until the reference pair's two sessions are connected.
func (e *env) waitPair(limit time.Duration) (time.Duration, bool) {
	return e.waitCount(func(s broker.UserStatus) bool { return !strings.HasPrefix(s.Device, "swarm-") }, 2, time.Now(), limit)
}

// waitCount polls User Status until n connected sessions match; false
// if they did not by start+limit.
func (e *env) waitCount(match func(broker.UserStatus) bool, n int, start time.Time, limit time.Duration) (time.Duration, bool) {
	deadline := start.Add(limit)
	for {
		var st []broker.UserStatus
		getJSON(e.t, "http://"+e.broker["admin"]+"/api/v1/userStatus", e.token, &st)
		got := 0
		for _, s := range st {
			if s.Connected && match(s) {
				got++
			}
		}
		if got >= n {
			return time.Since(start), true
		}
		if time.Now().After(deadline) {
			e.t.Logf("%d of %d sessions connected after %s", got, n, limit)
			return time.Since(start), false
		}
		// Each poll encodes every session, broker work: poll less often
		// for many (every 0.5 s at 10,000).
		time.Sleep(max(20*time.Millisecond, time.Duration(n)*50*time.Microsecond))
	}
}

func heapInUse() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}

func setupTimes(t testing.TB, socks string, port uint16, n int) []time.Duration {
	d := make([]time.Duration, 0, n)
	for range n {
		start := time.Now()
		c, err := dialSOCKS(socks, "dst.example.com", port)
		if err != nil {
			t.Fatal(err)
		}
		d = append(d, time.Since(start))
		c.Close()
	}
	slices.Sort(d)
	return d
}

// TestScaleConnections holds 1,000 relayed connections open at once and
// reports the memory they take in this process, which runs the broker,
// both agents, the client and the service: an upper bound for the broker.
// A perf run: C2CLAB_PERF=1 go test -run TestScaleConnections -v ./sim/agent
func TestScaleConnections(t *testing.T) {
	if os.Getenv("C2CLAB_PERF") == "" {
		t.Skip("perf run: set C2CLAB_PERF=1")
	}
	const n = 1000
	e := newEnv(t, testPolicy())
	socks, _, _ := e.pair()
	port := serveCheck(t, "127.0.0.3:0")
	before, goBefore := heapInUse(), runtime.NumGoroutine()
	start := time.Now()
	conns := make([]io.Closer, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range n {
		c, err := dialSOCKS(socks, "dst.example.com", port)
		if err != nil {
			t.Fatalf("after %d connections: %v", len(conns), err)
		}
		conns = append(conns, c)
	}
	took := time.Since(start)
	grew := heapInUse() - before
	t.Logf("%d relayed connections open at once, opened in %s (%.0f/s): heap +%.1f MiB (%.1f KiB each, broker, both agents, client and service together), goroutines +%d",
		n, took.Round(time.Millisecond), n/took.Seconds(), float64(grew)/(1<<20), float64(grew)/1024/n, runtime.NumGoroutine()-goBefore)
}
