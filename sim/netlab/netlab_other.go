//go:build !linux

package netlab

import (
	"context"
	"fmt"
	"os/exec"
)

// Lab is one run's networks and hosts; it needs Linux.
type Lab struct{}

// New reports ErrUnsupported outside Linux.
func New(runID, cniBinDir string) (*Lab, error) {
	return nil, fmt.Errorf("netlab: %w", ErrUnsupported)
}

func (l *Lab) RunID() string    { return "" }
func (l *Lab) StateDir() string { return "" }

func (l *Lab) AddNetwork(ctx context.Context, name string, conflist []byte) (*Network, error) {
	return nil, ErrUnsupported
}

func (l *Lab) AddHost(ctx context.Context, name string, networks ...string) (*Host, error) {
	return nil, ErrUnsupported
}

func (l *Lab) Host(name string) (*Host, error)               { return nil, ErrUnsupported }
func (l *Lab) Networks() []Network                           { return nil }
func (l *Lab) SetLinkUp(host, network string, up bool) error { return ErrUnsupported }
func (l *Lab) Close() error                                  { return nil }
func (h *Host) Do(fn func() error) error                     { return ErrUnsupported }
func Sweep(runIDs ...string) ([]string, error)               { return nil, ErrUnsupported }
func SweepAll() ([]string, error)                            { return nil, ErrUnsupported }
func RunIDs() ([]string, error)                              { return nil, nil }
func (h *Host) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "false")
}

func (l *Lab) Impair(ctx context.Context, host, network string, imp Impairment, start EmuStarter) (*Emu, error) {
	return nil, ErrUnsupported
}

func (l *Lab) Emus() []Emu { return nil }
