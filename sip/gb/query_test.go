package gb_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nvr/nvr/sip/gb"
	"github.com/nvr/nvr/sip/gbsim"
	"github.com/nvr/nvr/sip/manscdp"
)

func TestQueries(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			e := newEnv(t, nil)
			d := e.device(t, func(c *gbsim.Config) {
				c.Transport = tr
				c.Channels = 4
				c.Keepalive = time.Minute
			})
			ctx := ctxTimeout(t, 10*time.Second)

			info, err := e.client.DeviceInfo(ctx, d.ID())
			if err != nil {
				t.Fatal(err)
			}
			want := manscdp.DeviceInfo{DeviceName: "模拟设备 000001", Manufacturer: "gbsim", Model: "GBSIM-NVR",
				Firmware: "V1.0.0", Channel: 4}
			if *info != want {
				t.Errorf("DeviceInfo = %+v, want %+v", *info, want)
			}

			st, err := e.client.DeviceStatus(ctx, d.ID())
			if err != nil {
				t.Fatal(err)
			}
			if st.Online != "ONLINE" || st.Status != "OK" || st.Record != "OFF" || time.Since(st.DeviceTime).Abs() > time.Minute ||
				len(st.Alarms) != 1 || st.Alarms[0].DutyStatus != "OFFDUTY" {
				t.Errorf("DeviceStatus = %+v", st)
			}
			// Controls change what the status says.
			if err := e.client.Record(ctx, d.ID(), d.ChannelID(1), true); err != nil {
				t.Fatal(err)
			}
			if err := e.client.Guard(ctx, d.ID(), true); err != nil {
				t.Fatal(err)
			}
			if st, err = e.client.DeviceStatus(ctx, d.ID()); err != nil || st.Record != "ON" || st.Alarms[0].DutyStatus != "ONDUTY" {
				t.Errorf("DeviceStatus after Record and Guard = %+v, %v", st, err)
			}

			presets, err := e.client.Presets(ctx, d.ID(), d.ChannelID(2))
			if err != nil {
				t.Fatal(err)
			}
			if len(presets) != 3 || presets[0] != (manscdp.Preset{ID: 1, Name: "预置位1 大门"}) || presets[2].Name != "预置位3 仓库" {
				t.Errorf("Presets = %+v", presets)
			}

			cfg, err := e.client.ConfigDownload(ctx, d.ID(), "")
			if err != nil {
				t.Fatal(err)
			}
			bp := cfg.BasicParam
			if bp == nil || bp.DeviceID != d.ID() || bp.SIPServerID != e.server.ID || bp.Expiration != 3600 ||
				bp.HeartBeatInterval != 60 || bp.HeartBeatCount != 3 || bp.Name != "模拟设备 000001" {
				t.Errorf("ConfigDownload = %+v %+v", cfg, bp)
			}
			// A type the device lacks: Result ERROR.
			if _, err := e.client.ConfigDownload(ctx, d.ID(), "VideoParamOpt"); !errors.Is(err, gb.ErrDeviceError) {
				t.Errorf("ConfigDownload VideoParamOpt: err = %v, want ErrDeviceError", err)
			}
		})
	}
}

// A device that answers the MESSAGE but never sends the answer: ErrTimeout
// after QueryTimeout, for a query and for a catalog; a hung device (no 200)
// likewise. The device then recovers and the next query works.
func TestQueryTimeout(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			e := newEnv(t, func(c *gb.Client) { c.QueryTimeout = 300 * time.Millisecond })
			d := e.device(t, func(c *gbsim.Config) {
				c.Transport = tr
				c.Quirks.NoAnswer = true
			})
			ctx := ctxTimeout(t, 10*time.Second)
			check := func(name string, f func() error) {
				t.Helper()
				start := time.Now()
				err := f()
				el := time.Since(start)
				if !errors.Is(err, gb.ErrTimeout) {
					t.Errorf("%s: err = %v, want ErrTimeout", name, err)
				}
				if el < 250*time.Millisecond || el > 1500*time.Millisecond {
					t.Errorf("%s returned after %s with a 300 ms timeout", name, el)
				}
			}
			check("DeviceInfo", func() error { _, err := e.client.DeviceInfo(ctx, d.ID()); return err })
			check("Catalog", func() error { _, _, err := e.client.Catalog(ctx, d.ID()); return err })
			check("RecordInfo", func() error {
				_, _, err := e.client.RecordInfo(ctx, d.ID(), d.ChannelID(1), time.Now().Add(-time.Hour), time.Now())
				return err
			})
			d.SetSilent(true)
			check("DeviceStatus (hung)", func() error { _, err := e.client.DeviceStatus(ctx, d.ID()); return err })

			d.SetSilent(false)
			d.SetQuirks(gbsim.Quirks{})
			if _, err := e.client.DeviceInfo(ctx, d.ID()); err != nil {
				t.Errorf("after recovery: %v", err)
			}
		})
	}
}

// The caller's deadline, shorter than QueryTimeout, bounds a query too; a
// cancelled context is reported as such.
func TestQueryContext(t *testing.T) {
	e := newEnv(t, nil)
	d := e.device(t, func(c *gbsim.Config) { c.Quirks.NoAnswer = true })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := e.client.DeviceInfo(ctx, d.ID()); !errors.Is(err, gb.ErrTimeout) || time.Since(start) > time.Second {
		t.Errorf("err = %v after %s", err, time.Since(start))
	}
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	if _, err := e.client.DeviceInfo(ctx, d.ID()); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
}

func TestNotRegistered(t *testing.T) {
	e := newEnv(t, nil)
	ctx := ctxTimeout(t, 5*time.Second)
	if _, err := e.client.DeviceInfo(ctx, gbsim.MakeID(132, 99)); !errors.Is(err, gb.ErrNotRegistered) {
		t.Errorf("DeviceInfo: err = %v", err)
	}
	if _, _, err := e.client.Catalog(ctx, gbsim.MakeID(132, 99)); !errors.Is(err, gb.ErrNotRegistered) {
		t.Errorf("Catalog: err = %v", err)
	}
	if err := e.client.TeleBoot(ctx, gbsim.MakeID(132, 99)); !errors.Is(err, gb.ErrNotRegistered) {
		t.Errorf("TeleBoot: err = %v", err)
	}
}

// Queries to many devices at once are told apart (by device, CmdType and
// SN).
func TestConcurrentQueries(t *testing.T) {
	e := newEnv(t, nil)
	const n = 20
	devs := make([]*gbsim.Device, n)
	for i := range devs {
		devs[i] = e.device(t, func(c *gbsim.Config) {
			c.DeviceID = gbsim.MakeID(118, i+1)
			c.Channels = i + 1
		})
	}
	ctx := ctxTimeout(t, 20*time.Second)
	errs := make(chan error, 2*n)
	for i, d := range devs {
		go func() {
			info, err := e.client.DeviceInfo(ctx, d.ID())
			if err == nil && info.Channel != i+1 {
				err = errors.New(d.ID() + ": wrong answer")
			}
			errs <- err
		}()
		go func() {
			items, complete, err := e.client.Catalog(ctx, d.ID())
			if err == nil && (!complete || len(items) != i+1) {
				err = errors.New(d.ID() + ": wrong catalog")
			}
			errs <- err
		}()
	}
	for range 2 * n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
