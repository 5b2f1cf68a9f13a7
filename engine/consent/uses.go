package consent

import (
	"container/list"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/internal/kvjson"
	"github.com/dynapi/dynapi/internal/textcut"
)

// Use is one call a TPP made under a consent, for the customer's
// dashboard: when, which operation (its method and its path as the
// document writes it), the account it read, if one, and the answer's
// status.
type Use struct {
	At          time.Time `json:"at"`
	OperationID string    `json:"operation_id"`
	Method      string    `json:"method"`
	Path        string    `json:"path"`
	AccountID   string    `json:"account_id,omitempty"`
	Status      int       `json:"status"`
}

// MaxRecentUses is how many uses are kept per consent: the newest.
const MaxRecentUses = 20

// usesBucket holds each consent's recent uses: consent id -> []Use
// (JSON, oldest first).
const usesBucket = "consent_uses"

// NoteUse records that the consent's TPP made call use under it. It never
// blocks and allocates nothing: the use is queued (a buffered channel's
// send) for a background worker, which takes the queue every 50 ms and
// keeps the last MaxRecentUses of each consent in memory (for a
// bounded number of consents, the least recently used forgotten first)
// and stores them every few seconds and at Close. The record is best
// effort: a use noted while the queue is full, or not yet stored when the
// process dies, is lost. Consents themselves are never touched.
func (s *Service) NoteUse(consentID string, use Use) {
	select {
	case s.uses.queue <- notedUse{consentID: consentID, use: use}:
	default: // full: dropped, as the record is best effort
	}
}

// RecentUses returns the last MaxRecentUses uses of the consent, newest
// first: those noted so far (the queue is worked off first) or, for a
// consent not in memory, those last stored. A failure to read the store
// gives none: the record is best effort.
func (s *Service) RecentUses(ctx context.Context, consentID string) []Use {
	l := s.uses
	reply := make(chan struct{})
	select {
	case l.drain <- reply:
		select {
		case <-reply:
		case <-ctx.Done():
		}
	case <-l.done:
	case <-ctx.Done():
	}
	l.mu.Lock()
	e, ok := l.byID[consentID]
	var uses []Use
	if ok {
		uses = slices.Clone(e.Value.(*recentUses).uses)
	}
	l.mu.Unlock()
	if !ok {
		uses = l.load(ctx, consentID)
	}
	slices.Reverse(uses)
	return uses
}

// Close stores the uses noted so far and stops the background worker;
// later NoteUse calls are dropped. Call it before closing the store.
func (s *Service) Close(ctx context.Context) error {
	l := s.uses
	l.closeOnce.Do(func() { close(l.stop) })
	select {
	case <-l.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// useLogOptions bound the use log; zero fields take the defaults.
type useLogOptions struct {
	maxConsents int           // consents kept in memory (10,000)
	queue       int           // uses waiting for the worker (8,192)
	applyEvery  time.Duration // how often the worker takes the queue (50ms)
	flushEvery  time.Duration // how often changes are stored (5s)
}

// notedUse is one NoteUse, queued.
type notedUse struct {
	consentID string
	use       Use
}

// useLog keeps consents' recent uses. Only its worker (run) changes
// byID and lru; RecentUses reads them under mu.
type useLog struct {
	store     engine.Store
	opts      useLogOptions
	queue     chan notedUse
	drain     chan chan struct{} // work the queue off, then close the channel
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once

	mu   sync.Mutex
	byID map[string]*list.Element // values *recentUses
	lru  *list.List               // most recently used first
}

// recentUses are one consent's uses, oldest first; dirty until stored.
type recentUses struct {
	id    string
	uses  []Use
	dirty bool
}

// newUseLog starts the worker of a use log kept in store.
func newUseLog(store engine.Store, opts useLogOptions) *useLog {
	if opts.maxConsents <= 0 {
		opts.maxConsents = 10_000
	}
	if opts.queue <= 0 {
		opts.queue = 8192 // 50ms of 160,000 calls a second
	}
	if opts.applyEvery <= 0 {
		opts.applyEvery = 50 * time.Millisecond
	}
	if opts.flushEvery <= 0 {
		opts.flushEvery = 5 * time.Second
	}
	l := &useLog{store: store, opts: opts, queue: make(chan notedUse, opts.queue), drain: make(chan chan struct{}),
		stop: make(chan struct{}), done: make(chan struct{}), byID: map[string]*list.Element{}, lru: list.New()}
	go l.run()
	return l
}

// run is the worker: it applies queued uses, stores the changed consents'
// uses every flushEvery, and at stop stores what is left.
//
// It takes the queue in batches, every applyEvery, rather than each use
// as it comes: a worker waiting on the queue would be woken by every
// call, a switch of goroutines per request on the request path's CPU.
func (l *useLog) run() {
	defer close(l.done)
	tick := time.NewTicker(l.opts.flushEvery)
	defer tick.Stop()
	batch := time.NewTicker(l.opts.applyEvery)
	defer batch.Stop()
	for {
		select {
		case <-batch.C:
			l.applyQueued()
		case reply := <-l.drain:
			l.applyQueued()
			close(reply)
		case <-tick.C:
			l.flush()
		case <-l.stop:
			l.applyQueued()
			l.flush()
			return
		}
	}
}

// applyQueued applies every use queued now.
func (l *useLog) applyQueued() {
	for {
		select {
		case n := <-l.queue:
			l.apply(n)
		default:
			return
		}
	}
}

// apply adds one use to its consent's, loading those stored first when the
// consent is not in memory, and forgets the least recently used consents
// (once stored) past maxConsents.
func (l *useLog) apply(n notedUse) {
	if n.consentID == "" {
		return
	}
	u := n.use
	u.OperationID, u.Method, u.Path, u.AccountID = textcut.Bytes(u.OperationID, 128), textcut.Bytes(u.Method, 16), textcut.Bytes(u.Path, 512), textcut.Bytes(u.AccountID, 128)
	l.mu.Lock()
	e, ok := l.byID[n.consentID]
	l.mu.Unlock()
	var stored []Use
	if !ok {
		stored = l.load(context.Background(), n.consentID)
	}
	l.mu.Lock()
	if !ok {
		e = l.lru.PushFront(&recentUses{id: n.consentID, uses: stored})
		l.byID[n.consentID] = e
	}
	r := e.Value.(*recentUses)
	at, _ := slices.BinarySearchFunc(r.uses, u.At, func(have Use, t time.Time) int {
		if have.At.After(t) {
			return 1
		}
		return -1 // equal times keep their order of arrival
	})
	r.uses = slices.Insert(r.uses, at, u)
	if len(r.uses) > MaxRecentUses {
		r.uses = slices.Delete(r.uses, 0, len(r.uses)-MaxRecentUses)
	}
	r.dirty = true
	l.lru.MoveToFront(e)
	over := l.lru.Len() > l.opts.maxConsents
	l.mu.Unlock()
	if over {
		l.flush()
		l.evict()
	}
}

// evict forgets the least recently used consents down to nine tenths of
// maxConsents, so a stream of new consents stores in batches.
func (l *useLog) evict() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for l.lru.Len() > l.opts.maxConsents*9/10 {
		e := l.lru.Back()
		l.lru.Remove(e)
		delete(l.byID, e.Value.(*recentUses).id)
	}
}

// flush stores the uses of every consent changed since the last flush, in
// one transaction; those that fail to store stay changed, for the next.
func (l *useLog) flush() {
	pending := map[string][]Use{}
	l.mu.Lock()
	for id, e := range l.byID {
		if r := e.Value.(*recentUses); r.dirty {
			pending[id] = slices.Clone(r.uses)
			r.dirty = false
		}
	}
	l.mu.Unlock()
	if len(pending) == 0 {
		return
	}
	err := l.store.Update(context.Background(), func(tx engine.Tx) error {
		for id, uses := range pending {
			if err := kvjson.Put(tx, usesBucket, id, uses); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		return
	}
	l.mu.Lock()
	for id := range pending {
		if e, ok := l.byID[id]; ok {
			e.Value.(*recentUses).dirty = true
		}
	}
	l.mu.Unlock()
}

// load reads a consent's stored uses; none when there are none or the
// store fails.
func (l *useLog) load(ctx context.Context, consentID string) []Use {
	var uses []Use
	_ = l.store.View(ctx, func(tx engine.Tx) error {
		got, err := kvjson.Get[[]Use](tx, usesBucket, consentID)
		if err == nil {
			uses = *got
		}
		return nil
	})
	return uses
}

// useRecorder is the last response filter of an operation bound to use: it
// notes each answered call on its consent (NoteUse), for the customer's
// dashboard. It never changes the reply, never blocks the call and
// allocates nothing: the method and path are the operation's (the path
// template as the document writes it), and the account is the consent's
// own string for the account the check found in the path.
type useRecorder struct {
	svc          *Service
	op           string
	method, path string
	// account is the position of the path parameter naming the account,
	// -1 when the operation reads no single account.
	account int
}

// Filter implements engine.ResponseFilter.
func (u *useRecorder) Filter(_ context.Context, call *engine.Call, reply *engine.Reply) (*engine.Reply, error) {
	if call.Consent == nil {
		return reply, nil
	}
	use := Use{At: u.svc.now().UTC(), OperationID: u.op, Method: u.method, Path: u.path, Status: reply.Status}
	if call.Path != nil && u.account >= 0 && u.account < call.Path.Len() {
		if i := slices.Index(call.Consent.Accounts, call.Path.Value(u.account)); i >= 0 {
			use.AccountID = call.Consent.Accounts[i]
		}
	}
	u.svc.NoteUse(call.Consent.ID, use)
	return reply, nil
}
