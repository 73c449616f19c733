//go:build !linux

package cpuacct

import "errors"

var errNotLinux = errors.New("cpuacct: CPU accounting of other processes needs Linux")

func makeCgroup(string, []int) (string, error) { return "", errNotLinux }
func readCgroup(string) (Usage, error)         { return Usage{}, errNotLinux }
func removeCgroup(string) error                { return nil }
func readProc(int) (Usage, error)              { return Usage{}, errNotLinux }

// Process needs /proc.
func Process(int) (Usage, error) { return Usage{}, errNotLinux }
