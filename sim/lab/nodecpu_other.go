//go:build !linux

package lab

import (
	"context"

	"github.com/c2clab/c2clab/sim/measure/cpuacct"
)

func (l *Lab) NodeCPU(context.Context, string) (cpuacct.Usage, string, error) {
	return cpuacct.Usage{}, "", errNotLinux
}

func (l *Lab) NodeAddrs(string) (map[string]string, bool) { return nil, false }

func (l *Lab) NodeWhere(string) string { return "" }
func (l *Lab) NodeNames() []string     { return nil }
