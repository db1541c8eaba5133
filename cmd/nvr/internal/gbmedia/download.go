package gbmedia

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/nvr/nvr/device"
	"github.com/nvr/nvr/media/egress/fmp4"
	"github.com/nvr/nvr/media/stream"
	"github.com/nvr/nvr/sip"
)

// maxDownloadSpeed is the highest speed a device is asked to send at.
const maxDownloadSpeed = 8

// downloadsKept is how many finished downloads are remembered (their files
// stay on disk either way).
const downloadsKept = 200

type download struct {
	mu     sync.Mutex
	info   device.Download
	stream string
}

func (d *download) snapshot() device.Download {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.info
}

// StartDownload asks the device to send a channel's recording from start to
// end at speed times real time and writes it to an MP4 file under
// DownloadDir. It returns once the device streams; Download reports the
// progress.
func (m *Media) StartDownload(ctx context.Context, channelID int64, start, end time.Time, speed int) (*device.Download, error) {
	if err := checkRange(start, end); err != nil {
		return nil, err
	}
	if speed == 0 {
		speed = 1
	}
	if speed < 1 || speed > maxDownloadSpeed {
		return nil, fmt.Errorf("%w: speed must be within 1-%d", device.ErrInvalid, maxDownloadSpeed)
	}
	ch, dev, err := m.Devices.Target(ctx, channelID)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(m.DownloadDir, 0o750); err != nil {
		return nil, fmt.Errorf("download directory: %w", err)
	}
	id := newID()
	d := &download{stream: "dl" + id, info: device.Download{
		ID: id, ChannelID: channelID, Start: start, End: end, Speed: speed,
		State: device.DownloadRunning, Path: filepath.Join(m.DownloadDir, id+".mp4"), CreatedAt: time.Now(),
	}}
	inv := &inviter{m: m, deviceID: dev.GBID, channelID: ch.GBID, mode: sip.ModeDownload,
		start: start, end: end, speed: speed}
	src := m.source(dev, ch, inv, false)
	m.Hub.Set(d.stream, src, false)
	st, release, err := m.Hub.Acquire(ctx, d.stream)
	if err != nil {
		m.Hub.Remove(d.stream)
		if ierr := inv.err(); ierr != nil {
			return nil, ierr
		}
		return nil, err
	}
	f, err := os.OpenFile(d.info.Path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		release()
		m.Hub.Remove(d.stream)
		return nil, fmt.Errorf("download file: %w", err)
	}
	m.mu.Lock()
	m.downloads[id] = d
	m.pruneDownloadsLocked()
	m.mu.Unlock()
	m.log.Info("download started", "download", id, "channel_id", channelID, "start", start, "end", end, "speed", speed)
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		defer m.Hub.Remove(d.stream)
		defer release()
		err := m.save(st, f, d)
		m.finish(d, err)
	}()
	out := d.snapshot()
	return &out, nil
}

// save writes the stream to f as fragmented MP4 until the stream ends.
func (m *Media) save(st *stream.Stream, f *os.File, d *download) (err error) {
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	w := bufio.NewWriterSize(f, 256<<10)
	rd := st.NewReader()
	defer rd.Close()
	span := d.info.End.Sub(d.info.Start)
	var (
		mux        *fmp4.Muxer
		first      time.Duration
		haveFirst  bool
		written    int64
		lastUpdate time.Time
	)
	put := func(b []byte) error {
		n, err := w.Write(b)
		written += int64(n)
		return err
	}
	for {
		units, rerr := rd.Read(m.ctx)
		if rerr != nil {
			if mux != nil {
				if frag, err := mux.Flush(); err == nil && frag != nil {
					if err := put(frag); err != nil {
						return err
					}
				}
			}
			if err := w.Flush(); err != nil {
				return err
			}
			d.mu.Lock()
			d.info.Bytes = written
			d.mu.Unlock()
			if errors.Is(rerr, stream.ErrClosed) {
				return nil
			}
			return rerr
		}
		for _, u := range units {
			if mux == nil {
				mux = fmp4.NewMuxer(st.Tracks())
				init, err := mux.Init()
				if err != nil {
					return fmt.Errorf("nothing to save as MP4: %w", err)
				}
				if err := put(init); err != nil {
					return err
				}
			}
			frag, err := mux.Write(u)
			if errors.Is(err, fmp4.ErrParamsChanged) {
				// One file has one init segment: a codec change ends what
				// can be saved in it.
				return fmt.Errorf("codec parameters changed mid-download: %w", err)
			}
			if err != nil {
				return err
			}
			if frag != nil {
				if err := put(frag); err != nil {
					return err
				}
			}
			if !haveFirst {
				first, haveFirst = u.DTS, true
			}
			if now := time.Now(); now.Sub(lastUpdate) > 200*time.Millisecond {
				lastUpdate = now
				d.mu.Lock()
				d.info.Progress = progress(u.DTS-first, span)
				d.info.Bytes = written
				d.mu.Unlock()
			}
		}
	}
}

func progress(got, span time.Duration) float64 {
	if span <= 0 {
		return 0
	}
	p := float64(got) / float64(span)
	return min(max(p, 0), 1)
}

// finish records how a download ended.
func (m *Media) finish(d *download, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.info.FinishedAt = time.Now()
	switch {
	case err != nil:
		d.info.State, d.info.Error = device.DownloadFailed, err.Error()
	case d.info.Bytes == 0:
		d.info.State, d.info.Error = device.DownloadFailed, "the device sent no media"
	default:
		d.info.State, d.info.Progress = device.DownloadDone, 1
	}
	m.log.Info("download ended", "download", d.info.ID, "state", d.info.State, "bytes", d.info.Bytes, "error", d.info.Error)
}

// pruneDownloadsLocked forgets the oldest finished downloads beyond
// downloadsKept.
func (m *Media) pruneDownloadsLocked() {
	if len(m.downloads) <= downloadsKept {
		return
	}
	var done []device.Download
	for _, d := range m.downloads {
		if s := d.snapshot(); s.State != device.DownloadRunning {
			done = append(done, s)
		}
	}
	sort.Slice(done, func(i, j int) bool { return done[i].CreatedAt.Before(done[j].CreatedAt) })
	for i := 0; i < len(done) && len(m.downloads) > downloadsKept; i++ {
		delete(m.downloads, done[i].ID)
	}
}

// Download returns a download's state.
func (m *Media) Download(id string) (*device.Download, error) {
	m.mu.Lock()
	d := m.downloads[id]
	m.mu.Unlock()
	if d == nil {
		return nil, ErrUnknownSession
	}
	out := d.snapshot()
	return &out, nil
}

// Downloads lists the downloads, newest first.
func (m *Media) Downloads() []*device.Download {
	m.mu.Lock()
	out := make([]*device.Download, 0, len(m.downloads))
	for _, d := range m.downloads {
		s := d.snapshot()
		out = append(out, &s)
	}
	m.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	return out
}
