package lab

import "fmt"

// SetLinkUp cuts a device's machine off the lab network (up false), as a
// pulled cable would, or restores it. Network namespaces and containers.
func (d *Device) SetLinkUp(up bool) error {
	switch p := d.lab.placer.(type) {
	case *netnsPlacer:
		return p.lab.SetLinkUp(d.host.name, p.network, up)
	case *containerPlacer:
		return p.setLinkUp(d.host.name, up)
	}
	return fmt.Errorf("lab: set the link of %q: %w", d.Name, ErrNeedsNetns)
}
