package dynentity

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/authz"
	"github.com/dynapi/dynapi/engine/guard"
	"github.com/dynapi/dynapi/entities"
	"github.com/dynapi/dynapi/entities/records"
	"github.com/dynapi/dynapi/internal/rolename"
)

// bucket holds one definition per entity, keyed by id.
const bucket = "dynamic_entities"

// Entity is a stored definition, compiled. Immutable.
type Entity struct {
	ID        string
	BankID    string // "" for system level
	CreatedBy string
	CreatedAt time.Time
	Def       *entities.Definition
	// Schema stores the shared records; PersonalSchema, for entities with
	// personal records, the records of each owner.
	Schema         *records.Schema
	PersonalSchema *records.Schema
	// AllowUndeclared records the parse option, which OBP's format has no
	// place for.
	AllowUndeclared bool
	// rules are the guard rules of the shared records by verb, made once.
	rules map[rolename.Verb]*guard.Rule
}

// Rule is the guard rule of a call with verb on the entity's shared
// records: its role for the verb (RoleName).
func (e *Entity) Rule(verb rolename.Verb) *guard.Rule {
	if r, ok := e.rules[verb]; ok {
		return r
	}
	return &guard.Rule{Roles: []string{RoleName(e, verb)}}
}

// key identifies an entity by name within its bank.
type key struct{ bank, name string }

// snapshot is the immutable view requests read.
type snapshot struct {
	byName map[key]*Entity
	byID   map[string]*Entity
}

// Registry owns the definitions: it persists them, compiles them and swaps
// them in. Safe for concurrent use; reads take no lock.
type Registry struct {
	store   engine.Store
	records *records.Store
	mu      sync.Mutex // serialises changes
	snap    atomic.Pointer[snapshot]
}

// record is a definition as persisted.
type record struct {
	ID              string          `json:"dynamic_entity_id"`
	BankID          string          `json:"bank_id,omitempty"`
	CreatedBy       string          `json:"user_id"`
	CreatedAt       time.Time       `json:"created_at"`
	AllowUndeclared bool            `json:"allow_undeclared,omitempty"`
	Definition      json.RawMessage `json:"definition"`
}

// NewRegistry loads every stored definition.
func NewRegistry(ctx context.Context, store engine.Store, recs *records.Store) (*Registry, error) {
	r := &Registry{store: store, records: recs}
	r.snap.Store(&snapshot{byName: map[key]*Entity{}, byID: map[string]*Entity{}})
	var stored []record
	if err := store.View(ctx, func(tx engine.Tx) error {
		return tx.Scan(bucket, "", func(_ string, v []byte) error {
			var rec record
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("dynentity: decode definition: %w", err)
			}
			stored = append(stored, rec)
			return nil
		})
	}); err != nil {
		return nil, err
	}
	// Referenced entities first: a definition is checked against the ones
	// loaded before it, so load in creation order.
	slices.SortFunc(stored, func(a, b record) int { return a.CreatedAt.Compare(b.CreatedAt) })
	next := r.clone()
	for _, rec := range stored {
		e, err := compile(rec, next)
		if err != nil {
			return nil, fmt.Errorf("dynentity: stored definition %s no longer compiles: %w", rec.ID, err)
		}
		next.add(e)
	}
	r.snap.Store(next)
	return r, nil
}

func (s *snapshot) add(e *Entity) {
	s.byName[key{e.BankID, e.Def.Name}] = e
	s.byID[e.ID] = e
}

func (s *snapshot) remove(e *Entity) {
	delete(s.byName, key{e.BankID, e.Def.Name})
	delete(s.byID, e.ID)
}

// clone copies the current snapshot for a change.
func (r *Registry) clone() *snapshot {
	cur := r.snap.Load()
	return &snapshot{byName: maps.Clone(cur.byName), byID: maps.Clone(cur.byID)}
}

// builtins are the engine's own types a reference may name.
var builtins = map[string]bool{"Bank": true, "Consumer": true, "User": true}

// compile parses a stored or submitted definition against the entities it
// may reference: those of its own bank and the system-level ones.
func compile(rec record, s *snapshot) (*Entity, error) {
	def, err := entities.Parse(rec.Definition, entities.ParseOptions{
		AllowUndeclared: rec.AllowUndeclared,
		KnownEntity: func(name string) bool {
			_, bank := s.byName[key{rec.BankID, name}]
			_, system := s.byName[key{"", name}]
			return bank || system || builtins[name]
		},
	})
	if err != nil {
		return nil, err
	}
	e := &Entity{ID: rec.ID, BankID: rec.BankID, CreatedBy: rec.CreatedBy, CreatedAt: rec.CreatedAt,
		Def: def, AllowUndeclared: rec.AllowUndeclared}
	e.Schema = schemaOf(e, s)
	e.rules = make(map[rolename.Verb]*guard.Rule, 5)
	for _, verb := range []rolename.Verb{rolename.Create, rolename.Get, rolename.Update, rolename.Patch, rolename.Delete} {
		e.rules[verb] = &guard.Rule{Roles: []string{RoleName(e, verb)}}
	}
	if e.Def.HasPersonalEntity {
		personal := *e.Schema
		personal.Personal = true
		e.PersonalSchema = &personal
	}
	return e, nil
}

// schemaOf tells the record store what it needs: the primary key, the
// fields to index and where references point.
func schemaOf(e *Entity, s *snapshot) *records.Schema {
	sc := &records.Schema{BankID: e.BankID, Entity: e.Def.Name, PrimaryKey: e.Def.PrimaryKey(),
		Indexed: map[string]records.Kind{}, References: map[string]records.Target{}}
	for _, f := range e.Def.ScalarFields() {
		switch f.Type {
		case entities.TypeNumber, entities.TypeInteger:
			sc.Indexed[f.Name] = records.KindNumber
		case entities.TypeBoolean:
			sc.Indexed[f.Name] = records.KindBool
		case entities.TypeDate:
			sc.Indexed[f.Name] = records.KindDate
		default:
			sc.Indexed[f.Name] = records.KindString
		}
	}
	for _, ref := range e.Def.References() {
		if builtins[ref.Entity] {
			continue // checked by the record API, not the store
		}
		bank := e.BankID
		if _, ok := s.byName[key{bank, ref.Entity}]; !ok {
			bank = "" // a system-level entity
		}
		sc.References[ref.Field] = records.Target{BankID: bank, Entity: ref.Entity}
	}
	return sc
}

// Lookup finds an entity by bank and name, lock-free.
func (r *Registry) Lookup(bankID, name string) (*Entity, bool) {
	e, ok := r.snap.Load().byName[key{bankID, name}]
	return e, ok
}

// Get finds an entity by id within a bank ("" system level), or a 404.
func (r *Registry) Get(bankID, id string) (*Entity, error) {
	e, ok := r.snap.Load().byID[id]
	if !ok || e.BankID != bankID {
		return nil, engine.Errorf(http.StatusNotFound, engine.CodeNotFound, "dynamic entity %q not found", id)
	}
	return e, nil
}

// List returns the entities of a bank ("" system level) by name; with
// createdBy set, only that user's.
func (r *Registry) List(bankID, createdBy string) []*Entity {
	var out []*Entity
	for _, e := range r.snap.Load().byID {
		if e.BankID == bankID && (createdBy == "" || e.CreatedBy == createdBy) {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b *Entity) int { return strings.Compare(a.Def.Name, b.Def.Name) })
	return out
}

// ListByCreator returns every entity a user defined, at any bank.
func (r *Registry) ListByCreator(userID string) []*Entity {
	var out []*Entity
	for _, e := range r.snap.Load().byID {
		if e.CreatedBy == userID {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b *Entity) int {
		return cmp.Or(strings.Compare(a.BankID, b.BankID), strings.Compare(a.Def.Name, b.Def.Name))
	})
	return out
}

// All returns every entity.
func (r *Registry) All() []*Entity { return slices.Collect(maps.Values(r.snap.Load().byID)) }

// NewEntity is a definition submitted for storage.
type NewEntity struct {
	BankID          string
	Definition      []byte
	AllowUndeclared bool
	CreatedBy       string
	// Commit stores the definition (nil: in a transaction of its own),
	// with whatever commits with it (its roles and their grants).
	Commit Commit
}

// Commit stores a change to an entity definition; see engine.Commit.
type Commit = engine.Commit[*Entity]

// Create parses, stores and serves a new definition. Names are unique per
// bank; system level is its own namespace.
func (r *Registry) Create(ctx context.Context, in NewEntity) (*Entity, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	next := r.clone()
	rec := record{ID: uuid.NewString(), BankID: in.BankID, CreatedBy: in.CreatedBy, CreatedAt: time.Now().UTC(),
		AllowUndeclared: in.AllowUndeclared, Definition: in.Definition}
	e, err := compile(rec, next)
	if err != nil {
		return nil, err
	}
	if _, taken := next.byName[key{e.BankID, e.Def.Name}]; taken {
		return nil, engine.Errorf(http.StatusConflict, "entity_exists", "an entity named %q exists already here", e.Def.Name)
	}
	rec.Definition, err = json.Marshal(e.Def) // canonical OBP form
	if err != nil {
		return nil, engine.Internal(err)
	}
	if err := r.put(ctx, in.Commit, e, rec, next, nil); err != nil {
		return nil, err
	}
	return e, nil
}

// put stores rec, the record of e, through commit, after first (when not
// nil) in the same transaction, and then serves next, which holds e.
func (r *Registry) put(ctx context.Context, commit Commit, e *Entity, rec record, next *snapshot, first func(engine.Tx) error) error {
	data, err := json.Marshal(rec)
	if err != nil {
		return engine.Internal(err)
	}
	next.add(e)
	return engine.RunCommit(ctx, r.store, commit, e, func(tx engine.Tx) error {
		if first != nil {
			if err := first(tx); err != nil {
				return err
			}
		}
		return tx.Put(bucket, rec.ID, data)
	}, func() { r.snap.Store(next) })
}

// Update replaces a definition. A compatible change applies at once; one
// that existing records do not satisfy is refused with a 409 counting them,
// unless migrate is set, in which case defaults fill the fields the new
// definition requires and every record is rewritten. The check, the
// records' migration or reindexing and the new definition are written in
// one transaction, through commit (nil: a transaction of its own): a
// refusal, a record the migration cannot store or a failed commit leaves
// the records and the definition as they were.
func (r *Registry) Update(ctx context.Context, bankID, id string, definition []byte, migrate bool, defaults map[string]any, commit Commit) (*Entity, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	old, err := r.Get(bankID, id)
	if err != nil {
		return nil, err
	}
	next := r.clone()
	next.remove(old)
	rec := record{ID: old.ID, BankID: old.BankID, CreatedBy: old.CreatedBy, CreatedAt: old.CreatedAt,
		AllowUndeclared: old.AllowUndeclared, Definition: definition}
	e, err := compile(rec, next)
	if err != nil {
		return nil, err
	}
	if e.Def.Name != old.Def.Name {
		return nil, engine.Errorf(http.StatusBadRequest, engine.CodeBadRequest,
			"an entity cannot be renamed (%q to %q): create a new one", old.Def.Name, e.Def.Name)
	}
	if rec.Definition, err = json.Marshal(e.Def); err != nil {
		return nil, engine.Internal(err)
	}
	evolve := func(tx engine.Tx) error { return r.evolve(tx, old, e, migrate, defaults) }
	if err := r.put(ctx, commit, e, rec, next, evolve); err != nil {
		return nil, err
	}
	return e, nil
}

// maxListedFailures bounds the record ids named in an evolution refusal.
const maxListedFailures = 5

// evolve checks existing records against the new definition and, when
// asked, migrates them; then it rebuilds the indexes if the scalar fields
// changed. It writes in tx, the transaction that stores the definition.
func (r *Registry) evolve(tx engine.Tx, old, e *Entity, migrate bool, defaults map[string]any) error {
	diff := entities.Compare(old.Def, e.Def)
	if !diff.Compatible || migrate {
		fill := fillDefaults(entities.NewRequired(old.Def, e.Def), defaults, migrate)
		if err := r.countIncompatible(tx, old, e, diff, fill, migrate); err != nil {
			return err
		}
		if migrate {
			_, err := r.records.ReplaceAllIn(tx, e.Schema, func(rec map[string]any) (map[string]any, error) {
				return fill(rec), nil
			})
			return err
		}
	}
	needs, err := r.records.NeedsReindexIn(tx, e.Schema)
	if err != nil || !needs {
		return err
	}
	_, err = r.records.ReindexIn(tx, e.Schema)
	return err
}

// fillDefaults returns how a record is migrated: the newly required fields
// it lacks are filled from defaults (when migrating at all).
func fillDefaults(required []string, defaults map[string]any, migrate bool) func(map[string]any) map[string]any {
	return func(rec map[string]any) map[string]any {
		if !migrate {
			return rec
		}
		out := maps.Clone(rec)
		for _, name := range required {
			if _, ok := out[name]; !ok {
				if v, ok := defaults[name]; ok {
					out[name] = v
				}
			}
		}
		return out
	}
}

// countIncompatible refuses the change with a 409 counting the records
// (after migration) the new definition would not accept, naming a few.
func (r *Registry) countIncompatible(tx engine.Tx, old, e *Entity, diff entities.Diff, fill func(map[string]any) map[string]any, migrate bool) error {
	failing, ids := 0, []string{}
	if err := r.records.EachAllIn(tx, old.Schema, func(rec map[string]any) error {
		if len(e.Def.Validate(fill(rec))) > 0 {
			failing++
			if len(ids) < maxListedFailures {
				id, _ := rec[old.Def.PrimaryKey()].(string)
				ids = append(ids, id)
			}
		}
		return nil
	}); err != nil {
		return err
	}
	if failing == 0 {
		return nil
	}
	msg := fmt.Sprintf("%d existing records do not satisfy the new definition (for example %s)", failing, strings.Join(ids, ", "))
	if !migrate {
		msg += "; send ?migrate=true with defaults for new required fields, or fix the records first"
	}
	err := engine.NewError(http.StatusConflict, "records_incompatible", msg)
	for _, c := range diff.Breaking {
		err.Violations = append(err.Violations, engine.Violation{Location: "definition", Code: "incompatible", Message: c})
	}
	return err
}

// Delete forgets a definition, through commit (nil: a transaction of its
// own). One with records is refused unless cascade, which deletes the
// records in that same transaction: a failed commit leaves the definition
// and every record, and no record outlives its definition.
func (r *Registry) Delete(ctx context.Context, bankID, id string, cascade bool, commit Commit) (*Entity, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, err := r.Get(bankID, id)
	if err != nil {
		return nil, err
	}
	for _, other := range r.snap.Load().byID {
		for _, t := range other.Schema.References {
			if other.ID != e.ID && t.Entity == e.Def.Name && t.BankID == e.BankID {
				return nil, engine.Errorf(http.StatusConflict, "entity_referenced",
					"entity %s is referenced by entity %s; delete or change that one first", e.Def.Name, other.Def.Name)
			}
		}
	}
	next := r.clone()
	next.remove(e)
	write := func(tx engine.Tx) error {
		n, err := r.records.CountAllIn(tx, e.Schema)
		if err != nil {
			return err
		}
		if n > 0 && !cascade {
			return engine.Errorf(http.StatusConflict, "entity_has_records",
				"entity %s has %d records; delete them or send ?cascade=true", e.Def.Name, n)
		}
		if n > 0 {
			if _, err := r.records.DeleteAllIn(tx, e.Schema); err != nil {
				return err
			}
		}
		return tx.Delete(bucket, e.ID)
	}
	if err := engine.RunCommit(ctx, r.store, commit, e, write, func() { r.snap.Store(next) }); err != nil {
		return nil, err
	}
	return e, nil
}

// RoleName is the entity's role for verb: system level
// Can<Verb>DynamicEntity_System<Name>, bank level
// Can<Verb>DynamicEntity_<Name>, shortened by rolename.Fit when longer than
// a role name may be. An entity has four roles, for Create, Get, Update
// and Delete: a PATCH (a merge patch) needs the Update role.
func RoleName(e *Entity, verb rolename.Verb) string {
	if verb == rolename.Patch {
		verb = rolename.Update
	}
	scope := "DynamicEntity_"
	if e.BankID == "" {
		scope = "DynamicEntity_System"
	}
	return rolename.Fit("Can" + string(verb) + scope + e.Def.Name)
}

// RoleNames are the four roles of an entity (see RoleName).
func RoleNames(e *Entity) (create, get, update, del string) {
	return RoleName(e, rolename.Create), RoleName(e, rolename.Get), RoleName(e, rolename.Update), RoleName(e, rolename.Delete)
}

// RoleOwner is who owns the entity's roles in the access service.
func RoleOwner(e *Entity) string { return "entity:" + e.ID }

// Roles are the entity's roles as the access service keeps them.
func Roles(e *Entity) []authz.Role {
	c, g, u, d := RoleNames(e)
	roles := make([]authz.Role, 0, 4)
	for _, name := range []string{c, g, u, d} {
		roles = append(roles, authz.Role{Name: name, RequiresBankID: e.BankID != "", Dynamic: true})
	}
	return roles
}
