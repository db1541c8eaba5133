package gb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/nvr/nvr/device"
	"github.com/nvr/nvr/sip/manscdp"
)

// SyncResult is what a catalog refresh changed.
type SyncResult struct {
	Added, Updated, Removed int
	// Total is the number of catalog items received.
	Total int
	// Complete is false when catalog_timeout ended the wait before the device sent every item
	// it announced; then no channel was removed.
	Complete bool
}

// syncQueue holds the GB IDs of devices waiting for their DeviceInfo and Catalog, each once,
// in arrival order. A queue with a few workers, not a goroutine per device: 5,000 devices
// registering at once must not hold 5,000 stacks.
type syncQueue struct {
	mu      sync.Mutex
	cond    *sync.Cond
	pending map[string]bool
	order   []string
	closed  bool
}

func (q *syncQueue) init() {
	q.cond = sync.NewCond(&q.mu)
	q.pending = map[string]bool{}
}

// push queues a device unless it is queued already.
func (q *syncQueue) push(id string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed || q.pending[id] {
		return
	}
	q.pending[id] = true
	q.order = append(q.order, id)
	q.cond.Signal()
}

// take waits for a device to sync; false once the queue is closed.
func (q *syncQueue) take() (string, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.order) == 0 && !q.closed {
		q.cond.Wait()
	}
	if q.closed {
		return "", false
	}
	id := q.order[0]
	q.order[0] = ""
	q.order = q.order[1:]
	delete(q.pending, id)
	return id, true
}

func (q *syncQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.cond.Broadcast()
	q.mu.Unlock()
}

// enqueueSync asks for a device's DeviceInfo and Catalog, and a catalog subscription, in the
// background.
func (s *Service) enqueueSync(gbID string) {
	if s.ctx == nil || s.ctx.Err() != nil {
		return
	}
	s.queue.push(gbID)
}

func (s *Service) syncWorker() {
	defer s.wg.Done()
	for {
		id, ok := s.queue.take()
		if !ok {
			return
		}
		s.syncDevice(s.ctx, id)
	}
}

// syncDevice asks a device that came online who it is and what it has, and subscribes to its
// catalog changes. Failures are logged: the device stays online, its record as it was.
func (s *Service) syncDevice(ctx context.Context, gbID string) {
	log := s.log.With("device_id", gbID)
	info, err := s.Client.DeviceInfo(ctx, gbID)
	switch err := deviceErr(err); {
	case err == nil:
		s.applyDeviceInfo(ctx, gbID, info)
	case ctx.Err() != nil:
		return
	case errors.Is(err, ErrOffline):
		log.Info("device left before its DeviceInfo query", "err", err)
		return
	default:
		// Some devices do not implement DeviceInfo; their catalog may still come.
		log.Warn("DeviceInfo query failed", "err", err)
	}
	if _, err := s.syncCatalog(ctx, gbID); err != nil {
		if ctx.Err() != nil || errors.Is(err, ErrOffline) {
			return
		}
		log.Warn("catalog query failed", "err", err)
	}
	if err := s.Client.SubscribeCatalog(ctx, gbID, s.SubscribeExpires); err != nil && ctx.Err() == nil {
		// Many IPCs do not support subscriptions; a refresh through the API still works.
		log.Info("catalog subscription not accepted", "err", err)
	}
}

// applyDeviceInfo stores what a DeviceInfo answer says. The name comes from the device only
// while it is still the GB ID it was created with: a name given through the API stays.
func (s *Service) applyDeviceInfo(ctx context.Context, gbID string, info *manscdp.DeviceInfo) {
	l := s.lock(gbID)
	l.Lock()
	defer l.Unlock()
	d, err := s.Store.DeviceByGBID(ctx, gbID)
	if err != nil {
		s.storeFailed(gbID, "read device for its DeviceInfo", err)
		return
	}
	changed := false
	set := func(dst *string, v string) {
		if v = strings.TrimSpace(v); v != "" && *dst != v {
			*dst, changed = v, true
		}
	}
	set(&d.Manufacturer, info.Manufacturer)
	set(&d.Model, info.Model)
	set(&d.Firmware, info.Firmware)
	if d.Name == "" || d.Name == d.GBID {
		set(&d.Name, info.DeviceName)
	}
	if d.Charset == "" {
		// The client has read the answer by now and knows what the device writes in.
		d.Charset = s.Client.Charset(gbID).String()
		changed = true
	}
	if changed {
		if err := s.Store.UpdateDevice(ctx, d); err != nil {
			s.storeFailed(gbID, "store DeviceInfo", err)
			return
		}
	}
	if st, _ := s.state(ctx, gbID); st != nil {
		s.update(st, func(st *devState) { st.charset = d.Charset })
	}
	s.log.Info("device info", "device_id", gbID, "name", d.Name, "manufacturer", d.Manufacturer,
		"model", d.Model, "firmware", d.Firmware, "channels", info.Channel, "charset", d.Charset)
}

// syncCatalog asks a device for its catalog and stores it. A complete catalog replaces the
// stored one (channels it does not list are removed); an incomplete one only adds and updates.
func (s *Service) syncCatalog(ctx context.Context, gbID string) (SyncResult, error) {
	items, complete, err := s.Client.Catalog(ctx, gbID)
	if err != nil {
		if len(items) == 0 || ctx.Err() != nil {
			return SyncResult{}, deviceErr(err)
		}
		complete = false // keep what arrived
	}
	d, err := s.Store.DeviceByGBID(ctx, gbID)
	if err != nil {
		return SyncResult{}, err
	}
	chans := channelsFromCatalog(gbID, items)
	res := SyncResult{Total: len(items), Complete: complete}
	res.Added, res.Updated, res.Removed, err = s.Store.SyncChannels(ctx, d.ID, chans, complete)
	if err != nil {
		return SyncResult{}, fmt.Errorf("storing the catalog of %s: %w", gbID, err)
	}
	log := s.log.With("device_id", gbID)
	if !complete {
		// The client's own warning says how many items the device announced (SumNum).
		log.Warn(fmt.Sprintf("catalog incomplete: %d items arrived before sip.catalog_timeout; no channel removed", len(items)),
			"added", res.Added, "updated", res.Updated)
	} else {
		log.Info("catalog stored", "items", res.Total, "added", res.Added, "updated", res.Updated, "removed", res.Removed)
	}
	s.rememberCharset(ctx, gbID)
	return res, nil
}

// rememberCharset stores the charset the client detected for a device that has none stored
// yet (the DeviceInfo answer was ASCII, or never came).
func (s *Service) rememberCharset(ctx context.Context, gbID string) {
	l := s.lock(gbID)
	l.Lock()
	defer l.Unlock()
	st, err := s.state(ctx, gbID)
	if err != nil || st == nil {
		return
	}
	snap := s.snapshot(st)
	if snap.charset != "" {
		return
	}
	d, err := s.Store.Device(ctx, snap.id)
	if err != nil || d.Charset != "" {
		return
	}
	d.Charset = s.Client.Charset(gbID).String()
	if err := s.Store.UpdateDevice(ctx, d); err != nil {
		s.storeFailed(gbID, "store charset", err)
		return
	}
	s.update(st, func(st *devState) { st.charset = d.Charset })
}

// storeFailed logs a database error about a device; a device deleted in between is forgotten.
func (s *Service) storeFailed(gbID, what string, err error) {
	if errors.Is(err, device.ErrNotFound) {
		s.forget(gbID)
		s.log.Info("device no longer stored: "+what+" skipped", "device_id", gbID)
		return
	}
	if errors.Is(err, context.Canceled) { // the platform is stopping
		s.log.Debug(what+" skipped: shutting down", "device_id", gbID)
		return
	}
	s.log.Error(what+" failed", "device_id", gbID, "err", err)
}
