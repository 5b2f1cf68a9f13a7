// Package endpointmap serves dynamic endpoints from dynamic entity records, as
// the Open Bank Project's endpoint mappings do. A document whose host is
// "dynamic_entity" answers each operation through the mapping made for its
// operationId: request_mapping says which entity field each request body
// field fills, response_mapping which entity field each response field
// shows, and the leaf's "query" names the entity field that the operation's
// last path parameter selects a record by.
//
// GET with a path parameter answers one record (404 when none matches), GET
// without one a list, POST creates (201), PUT replaces and DELETE deletes
// (204) the record the path selects.
package endpointmap

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/dynapi/dynapi/engine"
)

// Host is the name of the connector that answers from entity records.
const Host = "dynamic_entity"

const bucket = "endpoint_mappings"

// Leaf maps one field to an entity field.
type Leaf struct {
	Entity string `json:"entity"`
	Field  string `json:"field"`
	Query  string `json:"query,omitempty"`
}

// Mapping is the endpoint mapping of one operation.
type Mapping struct {
	ID          string          `json:"endpoint_mapping_id"`
	OperationID string          `json:"operation_id"`
	BankID      string          `json:"bank_id,omitempty"`
	Request     map[string]Leaf `json:"request_mapping"`
	Response    map[string]Leaf `json:"response_mapping"`
	CreatedAt   time.Time       `json:"created_at"`
}

// Store keeps endpoint mappings, one per (bank, operationId), with a
// lock-free view for the request path.
type Store struct {
	db   engine.Store
	mu   sync.Mutex
	view atomic.Pointer[map[string]*Mapping] // bank + "\\x00" + operation id
}

func viewKey(bankID, opID string) string { return bankID + "\x00" + opID }

// NewStore loads the stored mappings.
func NewStore(ctx context.Context, db engine.Store) (*Store, error) {
	s := &Store{db: db}
	m := map[string]*Mapping{}
	if err := db.View(ctx, func(tx engine.Tx) error {
		return tx.Scan(bucket, "", func(_ string, v []byte) error {
			var mp Mapping
			if err := json.Unmarshal(v, &mp); err != nil {
				return fmt.Errorf("mapping: decode: %w", err)
			}
			m[viewKey(mp.BankID, mp.OperationID)] = &mp
			return nil
		})
	}); err != nil {
		return nil, err
	}
	s.view.Store(&m)
	return s, nil
}

// Lookup returns the mapping of an operation, lock-free.
func (s *Store) Lookup(bankID, opID string) (*Mapping, bool) {
	m, ok := (*s.view.Load())[viewKey(bankID, opID)]
	return m, ok
}

// List returns every mapping of a bank ("" system level).
func (s *Store) List(bankID string) []*Mapping {
	var out []*Mapping
	for _, m := range *s.view.Load() {
		if m.BankID == bankID {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b *Mapping) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out
}

// NewMapping is a mapping as submitted, in OBP's format: request_mapping and
// response_mapping are objects or JSON strings holding objects.
type NewMapping struct {
	OperationID     string          `json:"operation_id"`
	RequestMapping  json.RawMessage `json:"request_mapping"`
	ResponseMapping json.RawMessage `json:"response_mapping"`
}

// Commit stores a change to a mapping; see engine.Commit.
type Commit = engine.Commit[*Mapping]

// Create stores a mapping through commit (nil: a transaction of its own);
// an operation has at most one (409).
func (s *Store) Create(ctx context.Context, bankID string, in NewMapping, commit Commit) (*Mapping, error) {
	var faults []engine.Violation
	req, err := leaves(in.RequestMapping)
	if err != nil {
		faults = append(faults, engine.Violation{Location: "body", Pointer: "/request_mapping", Code: "invalid", Message: err.Error()})
	}
	resp, err := leaves(in.ResponseMapping)
	if err != nil {
		faults = append(faults, engine.Violation{Location: "body", Pointer: "/response_mapping", Code: "invalid", Message: err.Error()})
	}
	if in.OperationID == "" {
		faults = append(faults, engine.Violation{Location: "body", Pointer: "/operation_id", Code: "required", Message: "the operation id is required"})
	}
	if len(faults) > 0 {
		return nil, engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed, "the endpoint mapping is not valid", faults...)
	}
	m := &Mapping{ID: uuid.NewString(), OperationID: in.OperationID, BankID: bankID, Request: req, Response: resp,
		CreatedAt: time.Now().UTC()}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, taken := s.Lookup(bankID, m.OperationID); taken {
		return nil, engine.Errorf(http.StatusConflict, "mapping_exists", "operation %q has a mapping already", m.OperationID)
	}
	data, err := json.Marshal(m)
	if err != nil {
		return nil, engine.Internal(err)
	}
	next := maps.Clone(*s.view.Load())
	next[viewKey(bankID, m.OperationID)] = m
	if err := engine.RunCommit(ctx, s.db, commit, m, func(tx engine.Tx) error { return tx.Put(bucket, m.ID, data) },
		func() { s.view.Store(&next) }); err != nil {
		return nil, err
	}
	return m, nil
}

// Delete removes a mapping by id, through commit (nil: a transaction of
// its own).
func (s *Store) Delete(ctx context.Context, bankID, id string, commit Commit) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, m := range *s.view.Load() {
		if m.ID != id || m.BankID != bankID {
			continue
		}
		next := maps.Clone(*s.view.Load())
		delete(next, k)
		return engine.RunCommit(ctx, s.db, commit, m, func(tx engine.Tx) error { return tx.Delete(bucket, id) },
			func() { s.view.Store(&next) })
	}
	return engine.Errorf(http.StatusNotFound, engine.CodeNotFound, "endpoint mapping %q not found", id)
}

// leaves reads a mapping object, given as an object or, as OBP sends it, a
// JSON string holding one. Every leaf needs an entity and a field.
func leaves(raw json.RawMessage) (map[string]Leaf, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return map[string]Leaf{}, nil
	}
	var text string
	if json.Unmarshal(raw, &text) == nil {
		raw = json.RawMessage(text)
	}
	var out map[string]Leaf
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("must be an object of {\"entity\", \"field\", \"query\"} leaves: %v", err)
	}
	for name, l := range out {
		if l.Entity == "" || l.Field == "" {
			return nil, fmt.Errorf("%q needs an entity and a field", name)
		}
	}
	return out, nil
}
