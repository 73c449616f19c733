package lab

import "errors"

// ErrInterceptNeedsNetns is returned for DeviceOptions.Intercept on a
// backend other than netns: interception changes the machine's resolver
// and firewall, which only a namespace of the lab's own lets it do.
var ErrInterceptNeedsNetns = errors.New("lab: DNS interception needs the netns backend")

// interceptDNSPort is where the agent's DNS listens: stub resolvers know no
// other port.
const interceptDNSPort = "53"

// checkIntercept refuses interception where the backend cannot give it.
func (l *Lab) checkIntercept(opts DeviceOptions) error {
	if !opts.Intercept {
		return nil
	}
	return l.spec.Backend.Supports(FeatureIntercept)
}
