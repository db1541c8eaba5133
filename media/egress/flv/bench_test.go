package flv

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	flvcodec "github.com/nvr/nvr/media/codec/flv"
	"github.com/nvr/nvr/media/stream"
	"github.com/nvr/nvr/media/testsrc"
	"github.com/nvr/nvr/media/unit"
)

// BenchmarkFanout has one publisher write the H.264+AAC clip (272 units a
// round) to a stream that N viewers mux the way Serve does, handing each
// batch's pieces to io.Discard as they would go to writev.
// Each round waits until every viewer has consumed it, so nobody falls
// behind and skips. ns/unit/reader is the cost of one unit for one viewer,
// the tags' one-time build included; MB/s counts the payload delivered to
// all viewers.
func BenchmarkFanout(b *testing.B) {
	c := loadClip(b, testsrc.ClipH264, testsrc.ClipAAC)
	var payload int64
	for _, u := range c.units {
		for _, d := range u.Data {
			payload += int64(len(d))
		}
	}
	const round = 4 * time.Second // the clip's length
	for _, readers := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("readers=%d", readers), func(b *testing.B) {
			s := stream.New("bench", 0, nil)
			p := c.newPublisher(s)
			discard := slog.New(slog.DiscardHandler)
			var remaining atomic.Int64
			roundDone := make(chan struct{}, 1)
			var wg sync.WaitGroup
			for range readers {
				wg.Go(func() {
					r := s.NewReader()
					defer r.Close()
					m := newMuxer(s, discard)
					var out batch
					var iov, left net.Buffers
					for {
						units, err := r.Read(context.Background())
						if err != nil {
							return
						}
						if !m.started {
							m.start(units, &out)
						}
						m.appendBatch(units, &out)
						iov = out.buffers(iov[:0])
						left = iov
						_, _ = left.WriteTo(io.Discard)
						out.reset()
						if remaining.Add(-int64(len(units))) == 0 {
							roundDone <- struct{}{}
						}
					}
				})
			}
			for s.Readers() < readers {
				time.Sleep(time.Millisecond)
			}
			b.SetBytes(payload * int64(readers))
			b.ReportAllocs()
			var offset time.Duration
			for b.Loop() {
				remaining.Store(int64(len(c.units) * readers))
				for i := range c.units {
					t := &c.units[i]
					dts := t.DTS + offset
					p.Write(&unit.Unit{Track: t.Track, DTS: dts, PTS: dts, Key: t.Key, Data: t.Data})
				}
				<-roundDone
				offset += round
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(c.units)*readers), "ns/unit/reader")
			s.Close()
			wg.Wait()
		})
	}
}

// BenchmarkMuxBatch measures one viewer's per-batch work on tags already
// built: the timestamp walk and the batch's pieces.
func BenchmarkMuxBatch(b *testing.B) {
	c := loadClip(b, testsrc.ClipH264, testsrc.ClipAAC)
	s := stream.New("bench", 0, nil)
	defer s.Close()
	p := c.newPublisher(s)
	r := s.NewReader()
	defer r.Close()
	c.publish(p, 0, len(c.units))
	var units []*unit.Unit
	var size int64
	for len(units) < len(c.units) {
		batch, err := r.Read(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		units = append(units, batch...)
	}
	for _, u := range units {
		size += int64(len(flvcodec.UnitTags(u)))
	}
	m := newMuxer(s, slog.New(slog.DiscardHandler))
	var out batch
	m.start(units[:1], &out)
	out.reset()
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		m.lastTS = 0
		for i := 0; i < len(units); i += 32 {
			m.appendBatch(units[i:min(i+32, len(units))], &out)
			out.reset()
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(units)), "ns/unit")
}
