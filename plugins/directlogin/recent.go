package directlogin

import (
	"crypto/subtle"
	"hash/maphash"
	"strings"
	"sync/atomic"
	"unsafe"
)

// recentSlots is the size of the recent-token table, a power of two.
const recentSlots = 4096

// maxRecentLen bounds the header values the table keeps: a token's header
// is about 50 bytes.
const maxRecentLen = 128

// recent maps the DirectLogin header values of recent requests to their
// sessions, so that a request repeating a header value skips parsing it
// and hashing its token. It is a direct-mapped table: a value's slot is its
// hash under a random seed, and a new value overwrites the slot. Only
// values that led to a live session are put in, so unknown tokens cannot
// evict known ones. A hit compares the whole value in constant time. It
// is safe for concurrent use and takes no lock.
//
// The table decides nothing about validity: a session it returns is
// checked against the sessions map (revoked and dropped sessions are gone
// from it) and then for expiry, its consumer and its user, as any other.
type recent struct {
	seed  maphash.Seed
	slots [recentSlots]atomic.Pointer[recentEntry]
}

// recentEntry is a header value and its session.
type recentEntry struct {
	raw string // a private copy: request header values are reused buffers
	s   *session
}

func newRecent() *recent { return &recent{seed: maphash.MakeSeed()} }

func (r *recent) slot(raw string) *atomic.Pointer[recentEntry] {
	return &r.slots[maphash.String(r.seed, raw)&(recentSlots-1)]
}

// get returns the session last put for raw, or nil.
func (r *recent) get(raw string) *session {
	if len(raw) > maxRecentLen {
		return nil
	}
	e := r.slot(raw).Load()
	if e == nil || subtle.ConstantTimeCompare(bytesOf(e.raw), bytesOf(raw)) != 1 {
		return nil
	}
	return e.s
}

// put records the session of a header value.
func (r *recent) put(raw string, s *session) {
	if len(raw) > maxRecentLen {
		return
	}
	r.slot(raw).Store(&recentEntry{raw: strings.Clone(raw), s: s})
}

// bytesOf is s as bytes, without a copy; they must not be written.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
