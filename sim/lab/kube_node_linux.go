package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/c2clab/c2clab/sim/pod"
)

// maxShipped bounds a run-directory file sent to a machine: configs, keys
// and certificates are a few KiB; anything larger is not a node's input.
const maxShipped = 1 << 20

// start runs a node in the machine's Pod: the run directory's files (the
// node's config and every key and certificate it names, at the paths the
// lab wrote them to) go with the request, the node's output streams into
// its log file here, and its ready file is copied here once it appears,
// so proc waits for it as for any other node.
func (m *kubeMachine) start(ctx context.Context, n nodeRun) (runner, error) {
	files, err := shipped(n.dir)
	if err != nil {
		return nil, err
	}
	entry, err := m.agentEntrypoint(n)
	if err != nil {
		return nil, err
	}
	logf, err := os.Create(n.logPath)
	if err != nil {
		return nil, err
	}
	name := strings.TrimSuffix(filepath.Base(n.logPath), ".log")
	out, err := m.client.Run(m.placer.life, pod.RunRequest{Name: name, Args: n.args, Env: n.env, Files: files, Entrypoint: entry})
	if err != nil {
		logf.Close()
		return nil, fmt.Errorf("pod %s: %w", m.pod, err)
	}
	k := &kubeNode{m: m, name: name, out: out, logf: logf, ended: make(chan struct{})}
	if ready := readyArg(n.args); ready != "" {
		go k.copyReady(ready)
	}
	return k, nil
}

// shipped reads the run directory's files a node may need: all of them
// but logs and ready files, which are the nodes' own output.
func shipped(dir string) (map[string][]byte, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	for _, e := range ents {
		n := e.Name()
		if !e.Type().IsRegular() || strings.HasSuffix(n, ".log") || strings.HasSuffix(n, ".ready") || strings.HasSuffix(n, ".ready.tmp") || strings.HasPrefix(n, ".ready-") {
			continue
		}
		if info, err := e.Info(); err != nil || info.Size() > maxShipped {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return nil, err
		}
		files[filepath.Join(dir, n)] = data
	}
	return files, nil
}

// readyArg is the --ready-file argument of a node's arguments.
func readyArg(args []string) string {
	for i, a := range args {
		if a == "--ready-file" && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// kubeNode is a node running in a machine's Pod, driven through the
// machine's API: there is no local process to signal.
type kubeNode struct {
	m      *kubeMachine
	name   string
	out    *pod.Output
	logf   *os.File
	frozen atomic.Bool   // stopped by freeze, not yet continued
	ended  chan struct{} // closed when wait has seen the node end
}

// copyReady polls the machine for the node's ready file until it appears
// or the node ends, and writes it at the same path here, atomically, for
// proc.waitReady.
func (k *kubeNode) copyReady(path string) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		data, err := k.m.client.File(k.m.placer.life, path)
		if err == nil {
			if err := writeAtomic(path, data); err != nil {
				fmt.Fprintf(k.logf, "lab: copy ready file from pod %s: %v\n", k.m.pod, err)
			}
			return
		}
		if !errors.Is(err, pod.ErrNotFound) {
			debugf("lab: ready file of %s in pod %s: %v", k.name, k.m.pod, err)
		}
		select {
		case <-k.ended:
			return
		case <-tick.C:
		}
	}
}

func writeAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// wait copies the node's output into its log until the node ends.
func (k *kubeNode) wait() error {
	defer close(k.ended)
	_, cerr := io.Copy(k.logf, k.out)
	k.logf.Close()
	err := k.out.Exit()
	if err != nil && cerr != nil {
		return fmt.Errorf("node %s in pod %s: %w (output: %w)", k.name, k.m.pod, err, cerr)
	}
	if err != nil {
		return fmt.Errorf("node %s in pod %s: %w", k.name, k.m.pod, err)
	}
	return nil
}

func (k *kubeNode) signal(sig string) error {
	ctx, cancel := context.WithTimeout(k.m.placer.life, apiTimeout) // container_node_linux.go's
	defer cancel()
	return k.m.client.Signal(ctx, k.name, sig)
}

// terminate continues a frozen node first: a stopped process would not
// handle SIGTERM until continued.
func (k *kubeNode) terminate() {
	k.thaw()
	if err := k.signal("TERM"); err != nil {
		debugf("lab: %v", err)
	}
}

func (k *kubeNode) kill() {
	if err := k.signal("KILL"); err != nil {
		debugf("lab: %v", err)
	}
}

// freeze stops the node (SIGSTOP in its Pod): its connections stay open
// and it answers nothing.
func (k *kubeNode) freeze() error {
	if err := k.signal("STOP"); err != nil {
		return err
	}
	k.frozen.Store(true)
	return nil
}

func (k *kubeNode) thaw() {
	if k.frozen.Swap(false) {
		if err := k.signal("CONT"); err != nil {
			debugf("lab: %v", err)
		}
	}
}

func (k *kubeNode) hostPID(context.Context) (int, error) { return 0, ErrNoHostPID }
