package endpoints

import (
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// settleDelay is how long no document may be loading before the memory
// loads left behind goes back to the system: submissions in a row (a
// deployment posting its documents, a client retrying) pay for taking it
// back once, not once each.
const settleDelay = time.Second

var (
	// loadsInFlight counts the documents being built for a submission.
	loadsInFlight atomic.Int64
	settleMu      sync.Mutex
	settleTimer   *time.Timer
)

// settleAfterLoad counts a document load in flight; the function it returns
// ends it, and the last to end has the memory the loads left behind
// returned to the operating system settleDelay later, unless another load
// has started by then. Loading a document allocates some thirty times its
// size in transient trees (the decoded document, kin-openapi's model, the
// schema compiler's bookkeeping), of which the loaded document keeps a few
// percent; without this the heap keeps the pages it grew to, and a server
// that loaded the 24 shared documents held several times what they use.
// The collection this forces runs on the timer, not in the request.
func settleAfterLoad() func() {
	loadsInFlight.Add(1)
	return func() {
		if loadsInFlight.Add(-1) != 0 {
			return
		}
		settleMu.Lock()
		defer settleMu.Unlock()
		if settleTimer == nil {
			settleTimer = time.AfterFunc(settleDelay, settle)
			return
		}
		settleTimer.Reset(settleDelay)
	}
}

// settle returns the heap's free memory to the system when no load runs.
func settle() {
	if loadsInFlight.Load() == 0 {
		debug.FreeOSMemory()
	}
}
