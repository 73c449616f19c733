// Command pause is the sandbox ("pause") container of the one-node
// cluster kubenode runs: it holds the Pod's namespaces open and waits to
// be stopped. The kubelet and containerd need an image for it, and the
// upstream one (registry.k8s.io/pause) cannot be pulled here, so this one
// is built from source and written FROM scratch (sim/image.Archive).
//
// As PID 1 of the sandbox it also reaps children that a shared PID
// namespace would hand it; kubenode's Pods do not share one, so normally
// there are none.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	child := make(chan os.Signal, 1)
	signal.Notify(child, syscall.SIGCHLD)
	for {
		select {
		case <-stop:
			return
		case <-child:
			for {
				pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
				if pid <= 0 || err != nil {
					break
				}
			}
		}
	}
}
