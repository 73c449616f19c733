// Package pod runs the nodes of one lab machine inside its Pod, on the
// lab's request: the Pod's only container serves a small HTTP API on the
// Pod's address, and the lab (sim/lab's kubernetes placer) asks it to
// write a node's files, start the node, signal it and read its ready
// file. A Pod's containers are fixed when it is made, but a lab starts a
// machine's nodes one after another (services, then the agent; a broker
// again after a crash) in one network namespace, so the nodes are this
// process's children, as containerlab runs its nodes inside a clabernetes
// Pod.
//
// The API is for the lab only: every request carries the run's token
// (Config.Token, from the run's Secret), compared in constant time.
package pod

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/c2clab/c2clab/sim/linkemu"
)

// Config is the machine role's configuration (c2clab node machine
// --config FILE).
type Config struct {
	// Listen is the API's address; empty means ":" + DefaultPort.
	Listen string `json:"listen"`
	// Token authorizes requests (Authorization: Bearer TOKEN); required.
	Token string `json:"token"`
}

// DefaultPort is the API's port in every machine's Pod.
const DefaultPort = "7070"

// RunRequest starts a node: the machine's own executable with "node" and
// Args, its environment plus Env, after writing Files (absolute path to
// content) so the node finds its config, keys and certificates at the
// paths the lab wrote them to. With Entrypoint, the node is a vendor's
// agent instead: Entrypoint and Args in the root of the Pod's agent
// container (agentroot.go), whose environment replaces the machine's.
type RunRequest struct {
	Name       string            `json:"name"`
	Args       []string          `json:"args"`
	Env        []string          `json:"env"`
	Files      map[string][]byte `json:"files"`
	Entrypoint []string          `json:"entrypoint,omitempty"`
}

// ExitTrailer is the HTTP trailer of a run's response that carries how the
// node ended: "0", or the error text ("exit status 1", "signal: killed").
const ExitTrailer = "C2clab-Exit"

// Signals the API accepts, by name.
var signals = map[string]syscall.Signal{
	"TERM": syscall.SIGTERM, "KILL": syscall.SIGKILL,
	"STOP": syscall.SIGSTOP, "CONT": syscall.SIGCONT,
}

// ImpairRequest splices the lab's emulator into the Pod's link (POST
// /impair), before any node starts: ToPod on frames from the cluster,
// FromPod on frames to it. PerPacket turns segmentation offloads off, as
// netlab.Impairment.PerPacket does.
type ImpairRequest struct {
	ToPod     linkemu.Impairments `json:"toPod"`
	FromPod   linkemu.Impairments `json:"fromPod"`
	Seed      int64               `json:"seed,omitempty"`
	PerPacket bool                `json:"perPacket,omitempty"`
}

// server is one machine's API; nodes maps a node's name to its process.
type server struct {
	token string
	exe   string
	ctx   context.Context // the machine's life: the emulator runs until it ends
	srv   *http.Server

	mu    sync.Mutex // guards nodes, imp
	nodes map[string]*os.Process
	imp   impairState
}

// Run serves the API until ctx ends, then kills the nodes it started.
func Run(ctx context.Context, cfg Config, ready func(map[string]string)) error {
	if cfg.Token == "" {
		return errors.New("machine: config has no token")
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("machine: %w", err)
	}
	listen := cfg.Listen
	if listen == "" {
		listen = ":" + DefaultPort
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("machine: %w", err)
	}
	s := &server{token: cfg.Token, exe: exe, ctx: ctx, nodes: map[string]*os.Process{}}
	srv := &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}
	s.srv = srv
	go func() { <-ctx.Done(); srv.Close(); s.killAll() }()
	ready(map[string]string{"machine": ln.Addr().String()})
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("machine: %w", err)
	}
	return nil
}

func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("POST /run", s.run)
	mux.HandleFunc("POST /signal", s.signal)
	mux.HandleFunc("GET /file", s.file)
	mux.HandleFunc("POST /impair", s.impair)
	mux.HandleFunc("GET /impair", s.impairStatus)
	mux.HandleFunc("GET /cpu", s.cpu) // cpu.go
	return s.auth(mux)
}

func (s *server) auth(next http.Handler) http.Handler {
	want := []byte("Bearer " + s.token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			http.Error(w, "machine: wrong or missing token", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// run starts a node and streams its output as the response body until it
// ends; the trailer says how it ended.
func (s *server) run(w http.ResponseWriter, r *http.Request) {
	var req RunRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Name == "" {
		http.Error(w, fmt.Sprintf("machine: run: want a JSON RunRequest with a name: %v", err), http.StatusBadRequest)
		return
	}
	if err := writeFiles(req.Files); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	cmd, err := s.command(r.Context(), req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	out := &flushWriter{w: w, f: w.(http.Flusher)}
	cmd.Stdout, cmd.Stderr = out, out
	w.Header().Set("Trailer", ExitTrailer)
	w.Header().Set("Content-Type", "text/plain")
	if err := s.start(req.Name, cmd); err != nil {
		http.Error(w, err.Error(), http.StatusConflict)
		return
	}
	w.WriteHeader(http.StatusOK)
	out.flush()
	err = cmd.Wait()
	s.mu.Lock()
	delete(s.nodes, req.Name)
	s.mu.Unlock()
	status := "0"
	if err != nil {
		status = err.Error()
	}
	out.mu.Lock()
	w.Header().Set(ExitTrailer, status)
	out.mu.Unlock()
}

// command is the node's process: the machine's own c2clab, or a vendor's
// agent in the agent container's root.
func (s *server) command(ctx context.Context, req RunRequest) (*exec.Cmd, error) {
	if len(req.Entrypoint) > 0 {
		return agentCommand(ctx, req.Entrypoint, req.Args, req.Env)
	}
	cmd := exec.Command(s.exe, append([]string{"node"}, req.Args...)...)
	cmd.Env = append(os.Environ(), req.Env...)
	return cmd, nil
}

// start starts cmd as the node called name, which must not be running.
func (s *server) start(name string, cmd *exec.Cmd) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.nodes[name]; ok {
		return fmt.Errorf("machine: node %q is running already", name)
	}
	if err := startIn(s.imp, cmd); err != nil {
		return fmt.Errorf("machine: start node %q: %w", name, err)
	}
	s.nodes[name] = cmd.Process
	return nil
}

func (s *server) signal(w http.ResponseWriter, r *http.Request) {
	name, sig := r.URL.Query().Get("name"), r.URL.Query().Get("sig")
	num, ok := signals[sig]
	if !ok {
		http.Error(w, fmt.Sprintf("machine: signal %q: want TERM, KILL, STOP or CONT", sig), http.StatusBadRequest)
		return
	}
	p := s.running(name)
	if p == nil {
		http.Error(w, fmt.Sprintf("machine: no running node %q", name), http.StatusNotFound)
		return
	}
	if err := p.Signal(num); err != nil {
		http.Error(w, fmt.Sprintf("machine: signal node %q: %v", name, err), http.StatusGone)
	}
}

// file answers a file's content, 404 while it does not exist: how the lab
// reads a node's ready file.
func (s *server) file(w http.ResponseWriter, r *http.Request) {
	data, err := os.ReadFile(r.URL.Query().Get("path"))
	if errors.Is(err, os.ErrNotExist) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Write(data)
}

func (s *server) killAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.nodes {
		p.Kill()
	}
}

// writeFiles writes each file at its absolute path, making its directory.
func writeFiles(files map[string][]byte) error {
	for path, data := range files {
		if !filepath.IsAbs(path) {
			return fmt.Errorf("machine: file %q: want an absolute path", path)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return fmt.Errorf("machine: %w", err)
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return fmt.Errorf("machine: %w", err)
		}
	}
	return nil
}

// flushWriter sends a node's output as it comes: a node that fails to
// start explains itself in its first lines, and the lab's log must have
// them before the node ends.
type flushWriter struct {
	mu sync.Mutex // hold while writing to w: stdout and stderr share it
	w  http.ResponseWriter
	f  http.Flusher
}

func (fw *flushWriter) Write(p []byte) (int, error) {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	n, err := fw.w.Write(p)
	fw.f.Flush()
	return n, err
}

func (fw *flushWriter) flush() {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	fw.f.Flush()
}
