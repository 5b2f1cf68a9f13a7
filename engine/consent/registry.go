package consent

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/internal/ident"
)

// profileBucket holds the bank's own profiles: profile id -> the profile
// as posted (JSON).
const profileBucket = "consent_profiles"

// Bounds on the bank's own profiles.
const (
	MaxProfileBytes = 256 << 10
	MaxOwnProfiles  = 100
)

// Codes of profile management errors (engine.Error.Code).
const (
	// CodeProfileExists: a profile has the id already (409).
	CodeProfileExists = "consent_profile_exists"
	// CodeProfileBuiltin: built-in profiles cannot be deleted (403).
	CodeProfileBuiltin = "consent_profile_builtin"
	// CodeProfileInUse: served documents, or other profiles, are bound
	// to the profile (409).
	CodeProfileInUse = "consent_profile_in_use"
	// CodeProfileUnknown: no profile has the id (404).
	CodeProfileUnknown = "consent_profile_unknown"
)

// Audit actions of profile changes.
const (
	auditProfileCreate = "consent_profile.create"
	auditProfileDelete = "consent_profile.delete"
)

// Registry holds the profiles in force: the built-in ones and the bank's
// own, stored in the store. They are one immutable Profiles, swapped whole
// when a profile is added or removed, so binding a document reads them
// without a lock.
type Registry struct {
	store   engine.Store
	audit   *audit.Log
	builtin [][]byte
	cur     atomic.Pointer[Profiles]

	mu  sync.Mutex        // serialises changes
	own map[string][]byte // the bank's own profiles as posted, by id; replaced whole under mu
}

// NewRegistry loads the built-in profiles and the bank's own stored in
// store, changes to which are audited in log. Load it before the stored
// documents are bound, so those bound to the bank's profiles bind again.
func NewRegistry(ctx context.Context, store engine.Store, log *audit.Log) (*Registry, error) {
	r := &Registry{store: store, audit: log, builtin: builtinSources(), own: map[string][]byte{}}
	err := store.View(ctx, func(tx engine.Tx) error {
		return tx.Scan(profileBucket, "", func(id string, v []byte) error {
			r.own[id] = slices.Clone(v)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	ps, err := r.compile(r.own)
	if err != nil {
		return nil, fmt.Errorf("consent profiles stored: %w", err)
	}
	r.cur.Store(ps)
	return r, nil
}

// Current returns the profiles in force now. It never blocks.
func (r *Registry) Current() *Profiles { return r.cur.Load() }

// Get returns the profile in force with id.
func (r *Registry) Get(id string) (*Profile, bool) { return r.Current().Get(id) }

// compile parses the built-in profiles with own: the built-ins first in
// the order documents are matched in, then own, each sorted by id.
func (r *Registry) compile(own map[string][]byte) (*Profiles, error) {
	sources := slices.Clone(r.builtin)
	ids := sortedKeys(own)
	for _, id := range ids {
		sources = append(sources, own[id])
	}
	ps, err := ParseProfiles(sources...)
	if err != nil {
		return nil, err
	}
	ps.own = map[string]bool{}
	for _, id := range ids {
		ps.own[id] = true
	}
	ps.order = slices.DeleteFunc(ps.order, func(id string) bool { return ps.own[id] })
	ps.order = append(ps.order, ids...)
	return ps, nil
}

// Add checks src, a profile (JSON) that may extend any profile in force,
// and stores it as one of the bank's own, audited as
// consent_profile.create in the same transaction; documents can name it
// from then on. A profile that is not valid is a 400 naming every fault;
// an id in use a 409.
func (r *Registry) Add(ctx context.Context, src []byte, who audit.Actor) (*Profile, error) {
	if len(src) > MaxProfileBytes {
		return nil, engine.Errorf(http.StatusRequestEntityTooLarge, engine.CodePayloadTooLarge, "a consent profile is at most %d bytes", MaxProfileBytes)
	}
	var head struct {
		ID string `json:"profile_id"`
	}
	if err := json.Unmarshal(src, &head); err != nil {
		return nil, engine.NewError(http.StatusBadRequest, CodeInvalidProfile, "the consent profile is not a JSON object",
			engine.Violation{Location: "body", Pointer: "", Code: "syntax", Message: err.Error()})
	}
	if !ident.Valid(head.ID) {
		return nil, engine.NewError(http.StatusBadRequest, CodeInvalidProfile, "the consent profile's id is not valid",
			engine.Violation{Location: "body", Pointer: "/profile_id", Code: "pattern", Message: "a profile_id is " + ident.Rule})
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.Get(head.ID); ok {
		return nil, engine.Errorf(http.StatusConflict, CodeProfileExists, "consent profile %s exists already", head.ID)
	}
	if len(r.own) >= MaxOwnProfiles {
		return nil, engine.Errorf(http.StatusConflict, engine.CodeConflict, "the bank has %d consent profiles, the most it may keep; delete one first", MaxOwnProfiles)
	}
	own := maps.Clone(r.own)
	own[head.ID] = slices.Clone(src)
	ps, err := r.compile(own)
	if err != nil {
		return nil, err
	}
	p, _ := ps.Get(head.ID)
	err = r.store.Update(ctx, func(tx engine.Tx) error {
		if err := tx.Put(profileBucket, head.ID, own[head.ID]); err != nil {
			return err
		}
		return r.audit.Append(tx, who, auditProfileCreate, head.ID, "", map[string]any{"standard": p.Standard, "kind": p.Kind,
			"operations": len(p.Operations)})
	})
	if err != nil {
		return nil, err
	}
	r.own = own
	r.cur.Store(ps)
	return p, nil
}

// Delete removes the bank's own profile id, audited as
// consent_profile.delete in the same transaction. boundBy names the served
// documents bound to a profile; a profile any is bound to, or that another
// profile extends, is a 409 naming them; a built-in one a 403; an unknown
// one a 404. Consents created through the profile keep its id.
func (r *Registry) Delete(ctx context.Context, id string, who audit.Actor, boundBy func(profileID string) []string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.own[id]; !ok {
		if _, builtin := r.Get(id); builtin {
			return engine.Errorf(http.StatusForbidden, CodeProfileBuiltin, "consent profile %s is built in: it cannot be deleted", id)
		}
		return engine.Errorf(http.StatusNotFound, CodeProfileUnknown, "no consent profile %q", id)
	}
	if docs := boundBy(id); len(docs) > 0 {
		slices.Sort(docs)
		return engine.NewError(http.StatusConflict, CodeProfileInUse,
			"consent profile "+id+" is bound to served documents: "+strings.Join(docs, ", ")+"; delete them or post them with another ?consent_profile first",
			violationsOf(docs, "dynamic endpoint %s is bound to it")...)
	}
	own := maps.Clone(r.own)
	delete(own, id)
	ps, err := r.compile(own)
	if err != nil {
		var children []string
		for _, child := range sortedKeys(own) {
			var head struct {
				Extends string `json:"extends"`
			}
			if json.Unmarshal(own[child], &head) == nil && head.Extends == id {
				children = append(children, child)
			}
		}
		if len(children) == 0 {
			return err
		}
		return engine.NewError(http.StatusConflict, CodeProfileInUse, "consent profile "+id+" is extended by "+strings.Join(children, ", "),
			violationsOf(children, "consent profile %s extends it")...)
	}
	err = r.store.Update(ctx, func(tx engine.Tx) error {
		if err := tx.Delete(profileBucket, id); err != nil {
			return err
		}
		return r.audit.Append(tx, who, auditProfileDelete, id, "", nil)
	})
	if err != nil {
		return err
	}
	r.own = own
	r.cur.Store(ps)
	return nil
}

// violationsOf is one violation per name, its message format filled in.
func violationsOf(names []string, format string) []engine.Violation {
	out := make([]engine.Violation, len(names))
	for i, n := range names {
		out[i] = engine.Violation{Location: "path", Pointer: "/id", Code: "in_use", Message: fmt.Sprintf(format, n)}
	}
	return out
}

// List returns the profiles, in the order documents are matched in:
// the built-in ones, then the bank's own.
func (ps *Profiles) List() []*Profile {
	out := make([]*Profile, len(ps.order))
	for i, id := range ps.order {
		out[i] = ps.byID[id]
	}
	return out
}

// Builtin tells whether profile id is built in rather than the bank's own.
func (ps *Profiles) Builtin(id string) bool {
	_, ok := ps.byID[id]
	return ok && !ps.own[id]
}
