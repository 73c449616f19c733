package lab

import (
	"context"
	"fmt"

	"github.com/c2clab/c2clab/sim/connector"
	"github.com/c2clab/c2clab/sim/device"
	"github.com/c2clab/c2clab/sim/endpoint"
	"github.com/c2clab/c2clab/sim/pki"
)

// App is an application server behind an App Connector (Client to Server).
type App struct {
	FQDN     string
	Services []device.Service
}

// AddAppConnector starts each app server (fake services on its own
// address) and an App Connector that serves serverGroups and reaches the
// apps by their FQDNs.
func (l *Lab) AddAppConnector(ctx context.Context, tenantID, name string, serverGroups []string, apps []App) error {
	ca, ok := l.tenantCAs[tenantID]
	if !ok {
		return fmt.Errorf("lab: add App Connector %q: unknown tenant %q", name, tenantID)
	}
	hosts := map[string]string{}
	for i, app := range apps {
		appName := appServerName(name, i)
		h, err := l.placer.place(ctx, appName)
		if err != nil {
			return err
		}
		cfg := endpoint.Config{IP: h.addr.String(), Services: app.Services}
		if _, err := l.start(ctx, h, appName, "services", cfg); err != nil {
			return err
		}
		hosts[app.FQDN] = h.addr.String()
	}
	cert, key, err := l.issue(ca, pki.Identity{Tenant: tenantID, Name: name, Kind: pki.KindConnector}, false)
	if err != nil {
		return err
	}
	bundle, err := l.trustBundle(name, ca)
	if err != nil {
		return err
	}
	cfg := connector.Config{Name: name, Broker: l.brokerAddrs(), CAFile: bundle, CertFile: cert, KeyFile: key, ServerGroups: serverGroups, Hosts: hosts}
	h, err := l.placer.place(ctx, name)
	if err != nil {
		return err
	}
	_, err = l.start(ctx, h, name, "connector", cfg)
	return err
}

// appServerName is the machine name of an App Connector's i-th app server
// (from 0), which a topology's site places with its connector.
func appServerName(connector string, i int) string {
	return fmt.Sprintf("%s-app%d", connector, i+1)
}
