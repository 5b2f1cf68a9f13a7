package endpoints

import (
	"runtime/debug"
	"sync/atomic"
)

// loadsInFlight counts the documents being built for a submission.
var loadsInFlight atomic.Int64

// settleAfterLoad returns to the operating system the memory the document
// loads left behind, once the last one in flight ends. Loading a document
// allocates some thirty times its size in transient trees (the decoded
// document, kin-openapi's model, the schema compiler's bookkeeping), of
// which the loaded document keeps a few percent; without this the heap
// keeps the pages it grew to, and a server that loaded the 24 shared
// documents held four times what they use. A load is rare and takes
// hundreds of milliseconds; the collection this forces takes a few.
func settleAfterLoad() func() {
	loadsInFlight.Add(1)
	return func() {
		if loadsInFlight.Add(-1) == 0 {
			debug.FreeOSMemory()
		}
	}
}
