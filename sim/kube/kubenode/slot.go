package kubenode

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// Slots is how many nodes may run on one machine at once. go test ./...
// runs two test binaries at a time, and three of them start a node
// (sim/kube, steps/kubesuite, cmd/c2clab): one node per machine made each
// wait for the others' whole run (about 6 minutes of the suite's wall).
// A fourth slot leaves room for another worktree's suite.
const Slots = 4

// slot is what one node on the machine has to itself: the Pods' bridge and
// subnet, a second bridge and subnet kept for the lab network of a
// NetworkAttachmentDefinition (Multus' net1), and the cgroup under which
// its kubelet puts the kubepods hierarchy. Two kubelets under one kubepods
// would kill each other's Pods: a kubelet destroys every pod cgroup it
// does not know (cleanupOrphanedPodCgroups), killing its processes.
type slot struct {
	index                int
	bridge, subnet       string
	labBridge, labSubnet string
	cgroupRoot           string // cgroupfs path, "/c2cknK"
}

// slotFor returns slot k: bridges c2ckn(2k) and c2ckn(2k+1) on
// 100.64.(64+2k).0/24 and 100.64.(65+2k).0/24, the lab range
// (100.64.0.0/16) apart from the Service range kubetest gives the
// apiserver (100.64.0.0/24). Slot 0 keeps the addresses one node had.
func slotFor(k int) slot {
	return slot{
		index:      k,
		bridge:     "c2ckn" + strconv.Itoa(2*k),
		subnet:     "100.64." + strconv.Itoa(64+2*k) + ".0/24",
		labBridge:  "c2ckn" + strconv.Itoa(2*k+1),
		labSubnet:  "100.64." + strconv.Itoa(65+2*k) + ".0/24",
		cgroupRoot: "/c2ckn" + strconv.Itoa(k),
	}
}

// LockFile is held shared by every running node, so that a kubenode of a
// tree from before slots (which takes it exclusively for its whole run)
// and the nodes of this one never run at once.
const LockFile = "/run/c2clab-kubenode.lock"

// books are the machine's bookkeeping files, in dir: /run for the nodes
// (a reboot clears it), a directory of its own in the package's tests.
type books struct{ dir string }

var machineBooks = books{dir: "/run"}

// shared is LockFile (in dir).
func (b books) shared() string { return filepath.Join(b.dir, filepath.Base(LockFile)) }

// book serialises the short start and end steps of every node: taking a
// slot, and the machine-wide cleanup by the last node out.
func (b books) book() string { return filepath.Join(b.dir, "c2clab-kubenode.book.lock") }

// state holds what the first node of a busy spell found (type state).
func (b books) state() string { return filepath.Join(b.dir, "c2clab-kubenode.state") }

// slot is held by the node in slot k for its whole run.
func (b books) slot(k int) string {
	return filepath.Join(b.dir, "c2clab-kubenode-"+strconv.Itoa(k)+".lock")
}

// state is what the machine looked like before the first of the nodes
// that run now started. The host directories and the Pod network
// namespaces are shared by every node, so none is removed while another
// node runs; the last node out removes what the nodes made.
type state struct {
	// HostDirs are those of hostDirs that did not exist.
	HostDirs []string `json:"hostDirs"`
	// PodNetns are the Pod network namespaces (cni-*) that existed.
	PodNetns []string `json:"podNetns"`
}

// machine is a node's hold on the machine: the shared LockFile and its
// slot's lock, both released by closing the descriptor (and so with the
// process, if it dies).
type machine struct {
	books                books
	sharedLock, slotLock *os.File
	slot                 slot
	state                state
}

// flock opens path and locks it how (syscall.LOCK_*).
func flock(path string, how int) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("kubenode: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		return nil, fmt.Errorf("kubenode: lock %s: %w", path, err)
	}
	return f, nil
}

// claimMachine takes a free slot, waiting while all are taken, and the
// machine's state (writing it when no other node runs). The hold goes at
// the test's end, after the node's cleanup (registered before it).
func claimMachine(t testing.TB, b books) *machine {
	t.Helper()
	shared, err := flock(b.shared(), syscall.LOCK_SH)
	if err != nil {
		t.Fatal(err)
	}
	for waited := false; ; waited = true {
		m, err := b.tryClaim()
		if err != nil {
			shared.Close()
			t.Fatal(err)
		}
		if m != nil {
			m.sharedLock = shared
			return m
		}
		if !waited {
			t.Logf("kubenode: all %d slots of the machine are taken; waiting for one", Slots)
		}
		time.Sleep(time.Second)
	}
}

// tryClaim takes the first free slot under the book lock, or returns nil
// when every slot is taken.
func (b books) tryClaim() (*machine, error) {
	book, err := flock(b.book(), syscall.LOCK_EX)
	if err != nil {
		return nil, err
	}
	defer book.Close()
	for k := range Slots {
		f, err := flock(b.slot(k), syscall.LOCK_EX|syscall.LOCK_NB)
		if errors.Is(err, syscall.EWOULDBLOCK) {
			continue
		}
		if err != nil {
			return nil, err
		}
		m := &machine{books: b, slotLock: f, slot: slotFor(k)}
		if m.state, err = m.readState(); err != nil {
			f.Close()
			return nil, err
		}
		return m, nil
	}
	return nil, nil
}

// othersRun reports whether a node holds a slot other than m's. Call it
// under the book lock: a node takes its slot only under it.
func (m *machine) othersRun() (bool, error) {
	for k := range Slots {
		if k == m.slot.index {
			continue
		}
		f, err := flock(m.books.slot(k), syscall.LOCK_EX|syscall.LOCK_NB)
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		f.Close()
	}
	return false, nil
}

// readState returns the state the first running node wrote, or, when m's
// node is the only one, the machine's state now, written for the nodes
// that start while it runs. Call it under the book lock.
func (m *machine) readState() (state, error) {
	others, err := m.othersRun()
	if err != nil {
		return state{}, err
	}
	if others {
		data, err := os.ReadFile(m.books.state())
		if err != nil {
			return state{}, fmt.Errorf("kubenode: another node runs, but its state: %w", err)
		}
		var s state
		if err := json.Unmarshal(data, &s); err != nil {
			return state{}, fmt.Errorf("kubenode: %s: %w", m.books.state(), err)
		}
		return s, nil
	}
	s := state{HostDirs: missing(hostDirs)}
	for name := range podNetns() {
		s.PodNetns = append(s.PodNetns, name)
	}
	data, err := json.Marshal(s)
	if err != nil {
		return state{}, err
	}
	if err := os.WriteFile(m.books.state(), data, 0o600); err != nil {
		return state{}, fmt.Errorf("kubenode: %w", err)
	}
	return s, nil
}

// release gives the slot back; when m's node is the last one running, it
// first runs lastOut, the cleanup of what the machine's nodes share.
func (m *machine) release(lastOut func(state) error) error {
	defer m.sharedLock.Close()
	book, err := flock(m.books.book(), syscall.LOCK_EX)
	if err != nil {
		m.slotLock.Close()
		return err
	}
	defer book.Close()
	defer m.slotLock.Close() // before the book lock goes: a node starting next sees it free
	others, err := m.othersRun()
	if err != nil || others {
		return err
	}
	return errors.Join(lastOut(m.state), os.Remove(m.books.state()))
}

// makeCgroupRoot makes the slot's cgroup in every cgroup v1 hierarchy
// (the kubelet refuses a cgroupRoot that does not exist), with cpuset's
// CPUs and memory nodes those of the machine, which a new cpuset lacks.
func makeCgroupRoot(root string) error {
	hierarchies, _ := filepath.Glob("/sys/fs/cgroup/*")
	var errs []error
	for _, h := range hierarchies {
		if filepath.Base(h) == "unified" {
			continue // cgroup v2's, which the kubelet does not use here
		}
		d := filepath.Join(h, root)
		if err := os.Mkdir(d, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			errs = append(errs, fmt.Errorf("kubenode: cgroup: %w", err))
			continue
		}
		if filepath.Base(h) == "cpuset" {
			for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
				v, err := os.ReadFile(filepath.Join(h, f))
				if err == nil {
					err = os.WriteFile(filepath.Join(d, f), v, 0o644)
				}
				if err != nil {
					errs = append(errs, fmt.Errorf("kubenode: cgroup %s: %w", f, err))
				}
			}
		}
	}
	return errors.Join(errs...)
}
