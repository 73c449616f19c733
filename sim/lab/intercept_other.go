//go:build !linux

package lab

import "context"

func (d *Device) intercept(context.Context) error { return ErrInterceptNeedsNetns }
