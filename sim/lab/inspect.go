package lab

// Node is what the kernel says of one running node: the process and the
// network namespace it runs in, as the host sees them.
type Node struct {
	Name    string // the node, e.g. "desk-1-agent"
	Machine string // the backend's name of its machine
	PID     int    // its process ID in the host's PID namespace
	NetNS   string // its network namespace, e.g. "net:[4026532301]"
	// Addrs are the addresses its ready file announced, by name.
	Addrs map[string]string
}
