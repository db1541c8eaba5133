package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// startPoll is how often waitStarted checks the viewers.
const startPoll = 100 * time.Millisecond

// viewerGroup is n concurrent viewers of one URL.
type viewerGroup struct {
	viewers []*viewer
	errs    []error // errs[i] is written by viewer i's goroutine before it ends
	done    chan int
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// startViewers starts n viewers of url. They end when stop is called or
// after lifetime at the latest.
func startViewers(ctx context.Context, client *http.Client, url string, n int, fps float64, lifetime time.Duration) *viewerGroup {
	ctx, cancel := context.WithTimeout(ctx, lifetime)
	g := &viewerGroup{viewers: make([]*viewer, n), errs: make([]error, n), done: make(chan int, n), cancel: cancel}
	maxTags := int(lifetime.Seconds()+1) * tagsPerSecondBound
	for i := range g.viewers {
		g.viewers[i] = newViewer(fps)
		g.wg.Go(func() {
			g.errs[i] = g.viewers[i].run(ctx, client, url, maxTags)
			g.done <- i
		})
	}
	return g
}

// waitStarted waits until every viewer received a frame. A viewer that
// ends before is an error: the nvr refused or dropped it.
func (g *viewerGroup) waitStarted(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for range int(timeout/startPoll) + 1 {
		select {
		case i := <-g.done:
			return fmt.Errorf("viewer %d ended before the measurement", i)
		default:
		}
		started := 0
		for _, v := range g.viewers {
			if v.started.Load() {
				started++
			}
		}
		if started == len(g.viewers) {
			return nil
		}
		if time.Now().After(deadline) {
			break
		}
		if err := sleep(ctx, startPoll); err != nil {
			return err
		}
	}
	return fmt.Errorf("not every viewer got a frame within %s", timeout)
}

// frames returns how many frames each viewer has received so far.
func (g *viewerGroup) frames() []uint64 {
	s := make([]uint64, len(g.viewers))
	for i, v := range g.viewers {
		s[i] = v.frames.Load()
	}
	return s
}

// stop ends the viewers and waits for them. It is idempotent.
func (g *viewerGroup) stop() {
	g.cancel()
	g.wg.Wait()
}

// viewersResult sums up the viewers after they ended.
type viewersResult struct {
	window, total          []uint64 // frames per viewer in the window, in the whole run
	missing, skipped, gaps uint64
	notRising, decodeErrs  uint64
	maxStep                int64
	failed                 int
	firstErr               string
}

// result sums up the viewers; before and after are frames() at the ends
// of the window. Call it after stop.
func (g *viewerGroup) result(before, after []uint64) viewersResult {
	var r viewersResult
	for i, v := range g.viewers {
		r.window = append(r.window, after[i]-before[i])
		r.total = append(r.total, v.gaps.Frames)
		r.missing += v.gaps.Missing()
		r.skipped += v.gaps.Skipped
		r.gaps += v.gaps.Gaps
		r.notRising += v.gaps.NotRising
		r.decodeErrs += v.decodeErrs
		r.maxStep = max(r.maxStep, v.gaps.MaxStep)
		if err := g.errs[i]; err != nil && !errors.Is(err, context.Canceled) {
			if r.failed == 0 {
				r.firstErr = fmt.Sprintf(" (first: %v)", err)
			}
			r.failed++
		}
	}
	return r
}
