package jsvm

import (
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"time"
)

// The watchdog also ends calls: at each tick it stops those past their
// deadline or whose caller has gone, so that a call sets no timer of its
// own; a call may so run up to watchInterval past its deadline.
//
// The watchdog bounds what the running calls hold together, whatever made
// it: what no builtin guard sees (a loop pushing objects, the + operator
// doubling a string) included. While any call runs it samples the Go heap;
// once the heap is more than Options.MemoryLimit above its base, it runs a
// collection to tell garbage from held memory, and if the live heap is
// still above, it stops every running call (503 script_memory_exhausted):
// nothing tells which call holds what. Their runtimes are dropped.
//
// The base is the live heap measured by a collection while no call runs
// (at most once every rebaseEvery, when idle), or right after the calls
// the watchdog stopped have ended, when the memory they held is garbage;
// so the base follows the engine's own growth, and scripts cannot raise
// it by holding memory.

// Timing of the watchdog.
const (
	// watchInterval is how often the heap is sampled while calls run.
	watchInterval = 10 * time.Millisecond
	// rebaseEvery is how old the base may get before an idle moment
	// measures it again.
	rebaseEvery = time.Minute
)

// Heap metrics the watchdog reads.
const (
	metricHeap = "/memory/classes/heap/objects:bytes" // live and unswept objects, now
	metricLive = "/gc/heap/live:bytes"                // live objects at the last collection
)

// watchdog watches the heap while calls run; one goroutine at most, which
// ends when no call runs.
type watchdog struct {
	e     *Engine
	limit int64
	// active counts calls running; watching is set while the goroutine
	// runs.
	active   atomic.Int64
	watching atomic.Bool
	// The goroutine's own state (one goroutine at a time; watching's
	// atomic operations order one after the other).
	base     int64
	measured time.Time
	samples  []metrics.Sample
}

func newWatchdog(e *Engine, limit int64) *watchdog {
	return &watchdog{e: e, limit: limit,
		samples: []metrics.Sample{{Name: metricHeap}, {Name: metricLive}}}
}

// begin counts a call starting, and starts watching if none ran.
func (w *watchdog) begin() {
	if w.active.Add(1) == 1 && w.watching.CompareAndSwap(false, true) {
		go w.watch()
	}
}

// end counts a call ended.
func (w *watchdog) end() { w.active.Add(-1) }

func (w *watchdog) watch() {
	if w.measured.IsZero() {
		_, live := w.read()
		w.base, w.measured = live, time.Now()
	}
	tick := time.NewTicker(watchInterval)
	defer tick.Stop()
	var stopped []*callState // stopped by the watchdog, not yet ended
	for now := range tick.C {
		w.e.stopEnded(now)
		if len(stopped) > 0 {
			if running(stopped) {
				continue
			}
			stopped = nil
			w.rebase()
		}
		if w.active.Load() == 0 {
			if time.Since(w.measured) >= rebaseEvery {
				w.rebase()
			}
			w.watching.Store(false)
			if w.active.Load() == 0 || !w.watching.CompareAndSwap(false, true) {
				return
			}
			continue
		}
		ceiling := w.base + w.limit
		if heap, _ := w.read(); heap <= ceiling {
			continue
		}
		runtime.GC() // garbage is no reason to stop anything
		if _, live := w.read(); live > ceiling {
			stopped = w.e.stopAll(errMemory)
			w.e.o.Logger.Warn("jsvm: scripts stopped: together they held more memory than their limit",
				"live_heap_bytes", live, "base_bytes", w.base, "limit_bytes", w.limit, "calls_stopped", len(stopped))
		}
	}
}

// rebase measures the live heap as the new base.
func (w *watchdog) rebase() {
	runtime.GC()
	_, live := w.read()
	w.base, w.measured = live, time.Now()
}

// read returns the heap now and the live heap at the last collection.
func (w *watchdog) read() (heap, live int64) {
	metrics.Read(w.samples)
	heap, live = int64(w.samples[0].Value.Uint64()), int64(w.samples[1].Value.Uint64())
	if live == 0 { // no collection yet
		live = heap
	}
	return heap, live
}

// running reports whether any of calls has not ended.
func running(calls []*callState) bool {
	for _, c := range calls {
		if !c.done.Load() {
			return true
		}
	}
	return false
}
