package gbmedia

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/nvr/nvr/device"
	"github.com/nvr/nvr/media/record"
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
		err := m.save(st, d)
		m.finish(d, err)
	}()
	out := d.snapshot()
	return &out, nil
}

// save records the stream with the recorder of media/record (video, AAC,
// and G.711 stored as PCM) until it ends, then writes the segments as one
// progressive MP4 file.
func (m *Media) save(st *stream.Stream, d *download) error {
	parts := d.info.Path + ".parts"
	defer os.RemoveAll(parts)
	span := d.info.End.Sub(d.info.Start)
	var (
		mu   sync.Mutex
		segs []record.Segment
	)
	rec := &record.Recorder{
		Stream: st,
		Dir:    parts,
		// One segment for the whole range unless the codec changes: the
		// recorder's first segment may be cut after a quarter of this.
		SegmentDuration: 4*span + time.Minute,
		// A device sending faster than real time must not look silent.
		GapTimeout: 30 * time.Second,
		OnSegment: func(s record.Segment) {
			mu.Lock()
			segs = append(segs, s)
			mu.Unlock()
		},
		Logger: m.log,
	}
	if err := rec.Initialize(); err != nil {
		return err
	}
	m.progress(st, d, span, rec)
	// The recorder ends by itself once it has read the stream to its end.
	select {
	case <-rec.Done():
	case <-m.ctx.Done():
		rec.Close()
		<-rec.Done()
	}
	if st := rec.Stats(); st.DroppedFragments > 0 {
		return fmt.Errorf("%d fragments could not be written in time", st.DroppedFragments)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(segs) == 0 {
		return errors.New("the device sent no media")
	}
	exp, err := record.OpenExport(segs, segs[0].Start, segs[len(segs)-1].End)
	if err != nil {
		return fmt.Errorf("building the MP4: %w", err)
	}
	defer exp.Close()
	f, err := os.OpenFile(d.info.Path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return err
	}
	n, err := io.Copy(f, io.NewSectionReader(exp, 0, exp.Size()))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	d.mu.Lock()
	d.info.Bytes = n
	d.mu.Unlock()
	if err != nil {
		_ = os.Remove(d.info.Path)
		return fmt.Errorf("writing the MP4: %w", err)
	}
	return nil
}

// progress follows the stream until it ends and reports how much of the
// range arrived.
func (m *Media) progress(st *stream.Stream, d *download, span time.Duration, rec *record.Recorder) {
	rd := st.NewReader()
	defer rd.Close()
	var first time.Duration
	haveFirst := false
	for {
		units, err := rd.Read(m.ctx)
		if err != nil {
			return
		}
		u := units[len(units)-1]
		if !haveFirst {
			first, haveFirst = units[0].DTS, true
		}
		written := int64(rec.Stats().Bytes)
		d.mu.Lock()
		d.info.Progress = progress(u.DTS-first, span)
		d.info.Bytes = written
		d.mu.Unlock()
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
