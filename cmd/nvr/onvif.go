package main

import (
	"context"

	"github.com/nvr/nvr/device"
	"github.com/nvr/nvr/web"
)

// startONVIF wires the ONVIF service (onboarding, profile sync, reachability polls, snapshots,
// PTZ, background discovery) into the API. Its background work ends when ctx does or when the
// HTTP server shuts down, whichever comes first, so that an app shut down without cancelling
// its context (a failed start) leaves nothing running. Call it once a.http exists.
func (a *app) startONVIF(ctx context.Context, srv *web.Server) {
	c := a.cfg.ONVIF
	a.onvif = &device.ONVIFService{
		Store:               a.db,
		Media:               channelMedia{a},
		Timeout:             c.Timeout.Std(),
		PollInterval:        c.PollInterval.Std(),
		PollMisses:          c.PollMisses,
		SnapshotTTL:         c.SnapshotCache.Std(),
		DiscoveryInterval:   c.DiscoveryInterval.Std(),
		DiscoveryInterfaces: c.DiscoveryInterfaces,
		DiscoveryTimeout:    c.DiscoveryTimeout.Std(),
		Logger:              a.log,
	}
	a.onvif.Initialize(ctx)
	a.http.RegisterOnShutdown(a.onvif.Close)
	srv.ONVIF = a.onvif
}
