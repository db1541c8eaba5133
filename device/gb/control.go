package gb

import (
	"context"
)

// IFrame asks a channel's device for a key frame now (IFameCmd, GB/T 28181-2016 A.2.3.1), so
// that a viewer joining a stream does not wait for the next GOP. It completes when the device
// acknowledged the MESSAGE.
func (s *Service) IFrame(ctx context.Context, channelID int64) error {
	ch, d, err := s.reachableChannel(ctx, channelID)
	if err != nil {
		return err
	}
	if err := s.Client.IFrame(ctx, d.GBID, ch.GBID); err != nil {
		return deviceErr(err)
	}
	s.log.Debug("key frame requested", "device_id", d.GBID, "channel_id", ch.GBID)
	return nil
}

// Record starts (start) or stops recording of a channel on its device (RecordCmd, A.2.3.1).
// It completes when the device acknowledged the MESSAGE; the Result a device may send later is
// logged by the protocol client.
func (s *Service) Record(ctx context.Context, channelID int64, start bool) error {
	ch, d, err := s.reachableChannel(ctx, channelID)
	if err != nil {
		return err
	}
	if err := s.Client.Record(ctx, d.GBID, ch.GBID, start); err != nil {
		return deviceErr(err)
	}
	s.log.Info("device recording changed", "device_id", d.GBID, "channel_id", ch.GBID, "record", start)
	return nil
}

// Guard arms (set) or disarms a device's alarm inputs (GuardCmd SetGuard / ResetGuard,
// A.2.3.1). It completes when the device acknowledged the MESSAGE.
func (s *Service) Guard(ctx context.Context, id int64, set bool) error {
	d, err := s.reachable(ctx, id)
	if err != nil {
		return err
	}
	if err := s.Client.Guard(ctx, d.GBID, set); err != nil {
		return deviceErr(err)
	}
	s.log.Info("device guard changed", "device_id", d.GBID, "armed", set)
	return nil
}
