package stream

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nvr/nvr/media/unit"
)

// BenchmarkFanout measures the ring: one writer, N readers that each consume
// every unit. ns/op is the cost of delivering one unit to all N readers.
func BenchmarkFanout(b *testing.B) {
	for _, readers := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("readers=%d", readers), func(b *testing.B) {
			s := New("bench", 4096, nil)
			p := s.NewPublisher()
			p.SetTrack(0, h264)
			p.Write(&unit.Unit{Track: 0, Key: true})
			var wg sync.WaitGroup
			for i := 0; i < readers; i++ {
				r := s.NewReader()
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer r.Close()
					for {
						if _, err := r.Read(context.Background()); err != nil {
							return
						}
					}
				}()
			}
			payload := [][]byte{make([]byte, 1000)}
			i := 0
			for b.Loop() {
				i++
				p.Write(&unit.Unit{Track: 0, DTS: time.Duration(i) * time.Millisecond, Key: i%50 == 0, Data: payload})
			}
			s.Close()
			wg.Wait()
			var dropped uint64 = s.Stats().Dropped
			b.ReportMetric(float64(dropped)/float64(i), "dropped/op")
		})
	}
}
