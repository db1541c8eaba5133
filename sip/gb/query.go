package gb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nvr/nvr/sip/manscdp"
)

// waiter waits for the answer of one query.
type waiter struct {
	// ch receives the answer of a single-message query.
	ch chan *manscdp.Message
	// multi marks a Catalog or RecordInfo query, whose parts go to the
	// Assembler; onFirst is called (c.mu held) when the first one arrives.
	multi   bool
	started bool
	onFirst func()
}

func (c *Client) addWaiter(key manscdp.Key, w *waiter) {
	c.mu.Lock()
	c.waiting[key] = w
	c.mu.Unlock()
}

func (c *Client) removeWaiter(key manscdp.Key) {
	c.mu.Lock()
	delete(c.waiting, key)
	c.mu.Unlock()
}

// deliver hands an answer from deviceID to the query waiting for it and
// reports whether one was. Answers are matched by the sending device, not
// by the body's DeviceID: devices put the device or the channel there.
func (c *Client) deliver(deviceID string, m *manscdp.Message) bool {
	key := manscdp.Key{DeviceID: deviceID, CmdType: m.CmdType, SN: m.SN}
	c.mu.Lock()
	w := c.waiting[key]
	if w == nil {
		c.mu.Unlock()
		return false
	}
	if !w.multi {
		c.mu.Unlock()
		select {
		case w.ch <- m:
		default: // a duplicate answer; the first one counts
		}
		return true
	}
	if !w.started {
		w.started = true
		if w.onFirst != nil {
			w.onFirst()
		}
	}
	c.mu.Unlock()
	part := *m
	part.DeviceID = deviceID
	c.asm.Add(&part)
	return true
}

// query sends q to deviceID and waits for its answer, bounded by
// QueryTimeout and ctx. An answer with Result ERROR is returned with
// ErrDeviceError.
func (c *Client) query(ctx context.Context, deviceID string, q *manscdp.Message) (*manscdp.Message, error) {
	key := manscdp.Key{DeviceID: deviceID, CmdType: q.CmdType, SN: q.SN}
	w := &waiter{ch: make(chan *manscdp.Message, 1)}
	c.addWaiter(key, w)
	defer c.removeWaiter(key)
	qctx, cancel := context.WithTimeout(ctx, c.QueryTimeout)
	defer cancel()
	stop := context.AfterFunc(c.ctx, cancel)
	defer stop()
	if err := c.sendBody(qctx, deviceID, q); err != nil {
		if qctx.Err() != nil { // QueryTimeout, the caller's end or Close
			return nil, c.waitErr(ctx, q.CmdType, deviceID)
		}
		return nil, c.closedOr(err)
	}
	select {
	case m := <-w.ch:
		if strings.EqualFold(m.Result, manscdp.ResultError) {
			return m, fmt.Errorf("%w: %s of %s", ErrDeviceError, q.CmdType, deviceID)
		}
		return m, nil
	case <-qctx.Done():
		return nil, c.waitErr(ctx, q.CmdType, deviceID)
	}
}

// queryParts sends a Catalog or RecordInfo query and assembles the parts
// of its answer until they are all there or CatalogTimeout (or ctx) ends;
// a device that sends no part at all yields ErrTimeout after QueryTimeout.
func (c *Client) queryParts(ctx context.Context, deviceID string, q *manscdp.Message) (manscdp.Assembled, error) {
	key := manscdp.Key{DeviceID: deviceID, CmdType: q.CmdType, SN: q.SN}
	actx, cancel := context.WithTimeout(ctx, c.CatalogTimeout)
	defer cancel()
	stop := context.AfterFunc(c.ctx, cancel)
	defer stop()
	silent := time.AfterFunc(c.QueryTimeout, cancel)
	defer silent.Stop()
	c.addWaiter(key, &waiter{multi: true, onFirst: func() { silent.Stop() }})
	defer c.removeWaiter(key)
	if err := c.sendBody(actx, deviceID, q); err != nil {
		if actx.Err() != nil { // a timeout, the caller's end or Close
			return manscdp.Assembled{}, c.waitErr(ctx, q.CmdType, deviceID)
		}
		return manscdp.Assembled{}, c.closedOr(err)
	}
	res, err := c.asm.Wait(actx, key)
	if err != nil {
		return res, c.waitErr(ctx, q.CmdType, deviceID)
	}
	if !res.Complete {
		if err := ctx.Err(); errors.Is(err, context.Canceled) {
			return res, err
		}
		if c.ctx.Err() != nil {
			return res, ErrClosed
		}
		c.log.Warn("answer incomplete: keeping the parts that arrived", "device_id", deviceID,
			"cmd_type", q.CmdType, "sn", q.SN, "sum_num", res.SumNum, "missing", res.Missing, "parts", res.Parts)
	}
	return res, nil
}

// waitErr is the error of a query whose answer did not come: the caller's
// cancellation, ErrClosed, or ErrTimeout.
func (c *Client) waitErr(ctx context.Context, cmdType, deviceID string) error {
	if err := ctx.Err(); errors.Is(err, context.Canceled) {
		return err
	}
	if c.ctx.Err() != nil {
		return ErrClosed
	}
	return fmt.Errorf("%w: no %s answer from %s", ErrTimeout, cmdType, deviceID)
}

func (c *Client) closedOr(err error) error {
	if c.ctx.Err() != nil && !errors.Is(err, ErrClosed) {
		return fmt.Errorf("%w: %w", ErrClosed, err)
	}
	return err
}

// DeviceInfo asks a device for its name, maker, model, firmware and number
// of channels (A.2.4.4).
func (c *Client) DeviceInfo(ctx context.Context, deviceID string) (*manscdp.DeviceInfo, error) {
	m, err := c.query(ctx, deviceID, manscdp.NewQuery(manscdp.CmdDeviceInfo, c.nextSN(), deviceID))
	if err != nil {
		return nil, err
	}
	if m.DeviceInfo == nil {
		return &manscdp.DeviceInfo{}, nil
	}
	return m.DeviceInfo, nil
}

// DeviceStatus asks a device for its state: online, recording, clock,
// alarm inputs (A.2.4.3).
func (c *Client) DeviceStatus(ctx context.Context, deviceID string) (*manscdp.DeviceStatus, error) {
	m, err := c.query(ctx, deviceID, manscdp.NewQuery(manscdp.CmdDeviceStatus, c.nextSN(), deviceID))
	if err != nil {
		if m != nil && m.DeviceStatus != nil && m.DeviceStatus.Reason != "" {
			err = fmt.Errorf("%w (%s)", err, m.DeviceStatus.Reason)
		}
		return nil, err
	}
	if m.DeviceStatus == nil {
		return &manscdp.DeviceStatus{}, nil
	}
	return m.DeviceStatus, nil
}

// Catalog asks a device for its channels and tree nodes (A.2.4.2) and
// returns them in arrival order, each once. complete is false when
// CatalogTimeout (or ctx's deadline) ended the wait before SumNum items
// arrived; what did arrive is returned. A device that sends nothing at all
// yields ErrTimeout after QueryTimeout.
func (c *Client) Catalog(ctx context.Context, deviceID string) (items []manscdp.CatalogItem, complete bool, err error) {
	res, err := c.queryParts(ctx, deviceID, manscdp.NewQuery(manscdp.CmdCatalog, c.nextSN(), deviceID))
	if err != nil {
		return res.Catalog, false, err
	}
	return res.Catalog, res.Complete, nil
}

// RecordInfo asks a device for the recordings of a channel between start
// and end (A.2.4.5), assembled like Catalog and sorted by start time.
func (c *Client) RecordInfo(ctx context.Context, deviceID, channelID string, start, end time.Time) ([]manscdp.RecordItem, bool, error) {
	if !end.After(start) {
		return nil, false, fmt.Errorf("gb: RecordInfo range %s to %s is empty", start, end)
	}
	q := manscdp.NewRecordInfoQuery(c.nextSN(), channelID, manscdp.RecordQuery{
		StartTime: start.In(c.Location), EndTime: end.In(c.Location),
	})
	res, err := c.queryParts(ctx, deviceID, q)
	if err != nil {
		return res.Records, false, err
	}
	return res.Records, res.Complete, nil
}

// Presets asks a channel for its PTZ presets (A.2.4.9).
func (c *Client) Presets(ctx context.Context, deviceID, channelID string) ([]manscdp.Preset, error) {
	m, err := c.query(ctx, deviceID, manscdp.NewQuery(manscdp.CmdPresetQuery, c.nextSN(), channelID))
	if err != nil {
		return nil, err
	}
	if m.Presets == nil {
		return nil, nil
	}
	return m.Presets.Items, nil
}

// ConfigDownload asks a device for its configuration of configType
// (A.2.4.7), manscdp.ConfigTypeBasicParam when empty.
func (c *Client) ConfigDownload(ctx context.Context, deviceID, configType string) (*manscdp.Config, error) {
	if configType == "" {
		configType = manscdp.ConfigTypeBasicParam
	}
	m, err := c.query(ctx, deviceID, manscdp.NewConfigDownloadQuery(c.nextSN(), deviceID, configType))
	if err != nil {
		return nil, err
	}
	if m.Config == nil {
		return &manscdp.Config{}, nil
	}
	return m.Config, nil
}
