package engine

import "sync"

// Kinds of things a Change is about.
const (
	ChangeDocument = "dynamic_endpoint" // a dynamic endpoint's document
	ChangeEntity   = "dynamic_entity"   // a dynamic entity's definition
	ChangeScript   = "connector_method" // a connector method's script
	ChangeRouting  = "method_routing"   // a connector method's routing
	ChangeMapping  = "endpoint_mapping" // an endpoint mapping
)

// Change is one committed change, as its subscribers learn of it: what
// kind of thing changed, how, and which one.
type Change struct {
	// Kind is one of the Change* kinds.
	Kind string
	// Action is what happened to it: "create", "replace", "update",
	// "delete" or "set_host"; Kind + "." + Action is the change's audit
	// action.
	Action string
	// ID identifies the thing changed within its kind; BankID is its bank
	// ("" for system level).
	ID, BankID string
}

// Changes hands committed changes to its subscribers, in commit order. A
// change is queued with Committed once its transaction has committed, by
// whatever runs commits one at a time (a commit hook), and delivered by
// Deliver, which the changing side calls when it is done, outside its
// locks: a subscriber never sees a change that was rolled back, and sees
// every change before the call that made it returns. The zero value is
// ready; safe for concurrent use.
type Changes struct {
	mu      sync.Mutex // guards pending
	pending []Change
	deliver sync.Mutex // one delivery at a time, so in queued order; guards subs
	subs    []func(Change)
}

// Subscribe adds fn to the subscribers: it is called with every change
// queued from now on, one at a time, in commit order. fn runs on the
// goroutine of a changing call, before that call returns: it must be
// quick, must not block and must not make changes itself.
func (cs *Changes) Subscribe(fn func(Change)) {
	cs.deliver.Lock()
	defer cs.deliver.Unlock()
	cs.subs = append(cs.subs, fn)
}

// Committed queues c, whose transaction has committed. Calls must come in
// commit order.
func (cs *Changes) Committed(c Change) {
	cs.mu.Lock()
	cs.pending = append(cs.pending, c)
	cs.mu.Unlock()
}

// Deliver hands every queued change to every subscriber, in the order
// queued, and returns once the changes queued before the call have all
// been delivered (by this call or by another running at the same time).
func (cs *Changes) Deliver() {
	cs.deliver.Lock()
	defer cs.deliver.Unlock()
	cs.mu.Lock()
	batch := cs.pending
	cs.pending = nil
	cs.mu.Unlock()
	for _, c := range batch {
		for _, fn := range cs.subs {
			fn(c)
		}
	}
}
