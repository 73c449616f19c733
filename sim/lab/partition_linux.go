package lab

import "fmt"

// SetLinkUp cuts a device's machine off the lab network (up false), as a
// pulled cable would, or restores it. Network namespaces only.
func (d *Device) SetLinkUp(up bool) error {
	np, ok := d.lab.placer.(*netnsPlacer)
	if !ok {
		return fmt.Errorf("lab: set the link of %q: %w", d.Name, ErrNeedsNetns)
	}
	return np.lab.SetLinkUp(d.host.name, np.network, up)
}
