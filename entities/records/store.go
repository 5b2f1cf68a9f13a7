package records

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/events"
)

// Error codes this package puts in *engine.Error, beside engine's own.
const (
	CodeRecordExists      = "record_exists"       // 409: Create with a taken primary key
	CodeReferenceNotFound = "reference_not_found" // 400: a reference field names no record
	CodeReferenced        = "referenced"          // 409: Delete of a record others reference
	CodePrimaryKeyFixed   = "primary_key_fixed"   // 400: Replace tried to change the primary key
	CodeBadCursor         = "bad_cursor"          // 400: a cursor not from this query
	CodeReindexRequired   = "reindex_required"    // 409: the schema changed; call Reindex
)

// maxListedReferrers bounds the referrers a "referenced" refusal names.
const maxListedReferrers = 5

// Store keeps the records of dynamic entities in an engine.Store. It holds
// no state of its own and is safe for concurrent use.
type Store struct {
	db        engine.Store
	quota     Quota
	pageBytes int
	events    bool
	now       func() time.Time
}

// Options tune a Store. Zero fields take the defaults.
type Options struct {
	// Quota bounds what each user may keep of each entity.
	Quota Quota
	// PageBytes bounds the stored bytes of the records of one list page
	// (default DefaultPageBytes): a page ends before the record that would
	// take it past the bound, with Next set, but always holds at least one
	// record.
	PageBytes int
	// Events makes every write of a record (Create, Replace, Update,
	// Delete, and each record a cascade deletes) emit record.created,
	// record.updated or record.deleted to the event outbox in the
	// transaction that writes it (see events.Emit): the event exists if
	// and only if the change committed. Their subject is RecordSubject,
	// their BankID the entity's bank, and they concern no consumer (they
	// are for the bank's own systems). Their data is {"entity", "bank_id",
	// "id", "owner" (of a personal record), "record"}: the record as
	// stored, absent from record.deleted and, with "record_omitted":
	// true, when larger than events.MaxDataBytes. DeleteAll and
	// ReplaceAll (an entity deleted or migrated) and Reindex emit nothing.
	Events bool
	// Now is the clock of the events' times; time.Now when nil.
	Now func() time.Time
}

// New returns a record store over s.
func New(s engine.Store, o Options) *Store {
	if o.PageBytes <= 0 {
		o.PageBytes = DefaultPageBytes
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Store{db: s, quota: o.Quota.withDefaults(), pageBytes: o.PageBytes, events: o.Events, now: o.Now}
}

// Stored is a record as the store holds it.
type Stored struct {
	Record map[string]any
	// ETag is the record's strong entity tag, quoted as in an HTTP ETag
	// header: a digest of its stored bytes, so it changes whenever they do.
	ETag string
	// Raw is the record as stored: the JSON object json.Marshal makes of
	// Record (keys sorted), so that an answer can carry it without encoding
	// Record again. Every method that returns a Stored sets it.
	Raw []byte
}

// etagOf is the entity tag of a record's stored bytes.
func etagOf(raw []byte) string {
	var tag [etagLen]byte
	return string(AppendETag(tag[:0], raw))
}

// etagLen is the length of an entity tag: quotes around 16 bytes of
// digest in unpadded base64.
const etagLen = 2 + 22

// AppendETag appends the entity tag of a record's stored bytes raw (as
// Read gives them) to dst, quoted as in an HTTP ETag header: the tag
// Stored.ETag holds for them.
func AppendETag(dst, raw []byte) []byte {
	sum := sha256.Sum256(raw)
	n := len(dst)
	dst = append(dst, make([]byte, etagLen)...)
	tag := dst[n:]
	tag[0], tag[len(tag)-1] = '"', '"'
	base64.RawURLEncoding.Encode(tag[1:len(tag)-1], sum[:16])
	return dst
}

// IfMatch is a write's If-Match condition (RFC 9110): the entity tags the
// stored record may have for the write to go ahead, "*" standing for any.
// nil sets no condition. A condition on a record that does not exist, or
// whose tag is not listed, fails with a 412 precondition_failed and changes
// nothing.
type IfMatch []string

// current returns the stored record with id, checking the condition: a
// 404 for a missing record without one, a 412 when it fails.
func current(tx engine.Tx, l *layout, owner, id string, cond IfMatch) ([]byte, error) {
	raw, err := tx.Get(l.records(owner), id)
	if err != nil && !errors.Is(err, engine.ErrNotFound) {
		return nil, err
	}
	found := err == nil
	switch {
	case cond == nil && found:
		return raw, nil
	case cond == nil:
		return nil, notFound(l, id)
	case found && (slices.Contains(cond, "*") || slices.Contains(cond, etagOf(raw))):
		return raw, nil
	case found:
		return nil, engine.Errorf(http.StatusPreconditionFailed, engine.CodePreconditionFailed,
			"%s %q has changed: If-Match does not name its current ETag; read it again", l.entity, id)
	}
	return nil, engine.Errorf(http.StatusPreconditionFailed, engine.CodePreconditionFailed,
		"%s %q does not exist, so If-Match cannot hold", l.entity, id)
}

// Referrer is one record that references another.
type Referrer struct {
	BankID string
	Entity string
	Owner  string // "" for shared records
	ID     string
	Field  string // the reference field
}

// prepared is a record checked and encoded for writing.
type prepared struct {
	id     string
	record map[string]any
	raw    []byte
	keys   []string // index keys, keys[i] for layout.fields[i]
	refs   []string // referenced ids, refs[i] for layout.refs[i]; "" none
}

// prepare checks and encodes record (which holds its primary key) for
// writing under l. Values that do not fit their kind and references that
// are not strings are 400s naming the field.
func (l *layout) prepare(record map[string]any, id string) (*prepared, error) {
	p := &prepared{id: id, record: record, keys: make([]string, len(l.fields)), refs: make([]string, len(l.refs))}
	var faults []engine.Violation
	for i, f := range l.fields {
		part, err := encode(l.kinds[i], record[f], true)
		if err != nil {
			faults = append(faults, engine.Violation{Location: "body", Pointer: "/" + f, Code: "type",
				Message: fmt.Sprintf("%s %s", f, err)})
			continue
		}
		p.keys[i] = indexKey(part, id)
	}
	for i, f := range l.refs {
		switch v := record[f].(type) {
		case nil:
		case string:
			p.refs[i] = v
		default:
			faults = append(faults, engine.Violation{Location: "body", Pointer: "/" + f, Code: "type",
				Message: fmt.Sprintf("%s must be the id (a string) of a %s", f, l.targets[i].Entity)})
		}
	}
	if len(faults) > 0 {
		return nil, engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed,
			fmt.Sprintf("the %s record cannot be stored", l.entity), faults...)
	}
	raw, err := json.Marshal(record)
	if err != nil {
		return nil, engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed,
			fmt.Sprintf("the %s record cannot be stored as JSON: %v", l.entity, err))
	}
	p.raw = raw
	return p, nil
}

// entries returns the index keys and referenced ids of a stored record.
func (l *layout) entries(record map[string]any, id string) (*prepared, error) {
	p, err := l.prepare(record, id)
	if err != nil {
		return nil, fmt.Errorf("records: stored %s %q does not fit its schema: %w", l.entity, id, err)
	}
	return p, nil
}

// decode reads a stored record, numbers as json.Number.
func decode(raw []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, fmt.Errorf("records: stored record: %w", err)
	}
	return m, nil
}

func notFound(l *layout, id string) error {
	return engine.Errorf(http.StatusNotFound, engine.CodeNotFound, "%s %q not found", l.entity, id)
}

// scope returns the layout of sc after checking owner against it.
func scope(sc *Schema, owner string) (*layout, error) {
	l, err := layoutOf(sc)
	if err != nil {
		return nil, err
	}
	if err := l.checkOwner(owner); err != nil {
		return nil, err
	}
	return l, nil
}

// newID returns a fresh primary key: a version 7 UUID, which orders by
// creation time, so that new records append to the B-tree.
func newID() (string, error) {
	u, err := uuid.NewV7()
	if err != nil {
		if u, err = uuid.NewRandom(); err != nil {
			return "", err
		}
	}
	return u.String(), nil
}

// Create stores a new record and returns it with its primary key. The
// record supplies its primary key or gets a generated UUID; a taken one is
// a 409 record_exists. Every reference must resolve (400
// reference_not_found). The record is charged to user by (to the owner,
// for a personal record) and refused past the user's Quota. The record,
// its index entries, its back-links and the charge are written in one
// transaction.
func (s *Store) Create(ctx context.Context, sc *Schema, owner, by string, record map[string]any) (*Stored, error) {
	l, err := scope(sc, owner)
	if err != nil {
		return nil, err
	}
	out := maps.Clone(record)
	if out == nil {
		out = map[string]any{}
	}
	var id string
	switch v := out[l.pk].(type) {
	case nil:
		if id, err = newID(); err != nil {
			return nil, engine.Internal(err)
		}
		out[l.pk] = id
	case string:
		if !validID(v) {
			return nil, badID(l)
		}
		id = v
	default:
		return nil, badID(l)
	}
	p, err := l.prepare(out, id)
	if err != nil {
		return nil, err
	}
	if owner != "" {
		by = owner
	}
	err = s.db.Update(ctx, func(tx engine.Tx) error {
		if err := ensureSchema(tx, l, true); err != nil {
			return err
		}
		self := rec{l.bank, l.entity, owner, id}
		if err := charge(tx, &s.quota, self, by, len(p.raw)); err != nil {
			return err
		}
		if err := insert(tx, l, owner, p); err != nil {
			return err
		}
		return s.emit(tx, events.TypeRecordCreated, self, p.raw)
	})
	if err != nil {
		return nil, engine.Surface(err)
	}
	return &Stored{Record: out, ETag: etagOf(p.raw), Raw: p.raw}, nil
}

func badID(l *layout) error {
	return engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed, "the record cannot be stored",
		engine.Violation{Location: "body", Pointer: "/" + l.pk, Code: "type",
			Message: fmt.Sprintf("%s must be a string of 1 to %d bytes without NUL", l.pk, maxIDLength)})
}

// insert writes a new record, its index entries and back-links.
func insert(tx engine.Tx, l *layout, owner string, p *prepared) error {
	bucket := l.records(owner)
	if _, err := tx.Get(bucket, p.id); err == nil {
		return engine.Errorf(http.StatusConflict, CodeRecordExists, "%s %q exists already", l.entity, p.id)
	} else if !errors.Is(err, engine.ErrNotFound) {
		return err
	}
	self := rec{l.bank, l.entity, owner, p.id}
	targets, err := resolve(tx, l, self, p)
	if err != nil {
		return err
	}
	if err := tx.Put(bucket, p.id, p.raw); err != nil {
		return err
	}
	for i, f := range l.fields {
		if err := tx.Put(l.index(owner, f), p.keys[i], nil); err != nil {
			return err
		}
	}
	if err := putLinks(tx, l, self, targets); err != nil {
		return err
	}
	return addCount(tx, l.bank, l.entity, owner, 1)
}

// resolve finds the record each reference of p names, returning them
// (the zero rec where p has no reference). A personal record's reference
// resolves to its owner's record of the target entity if there is one,
// else to a shared one; a shared record's only to a shared one. A record
// may reference itself.
func resolve(tx engine.Tx, l *layout, self rec, p *prepared) ([]rec, error) {
	out := make([]rec, len(l.refs))
	var faults []engine.Violation
	for i, f := range l.refs {
		id := p.refs[i]
		if id == "" {
			continue
		}
		t := l.targets[i]
		if t.BankID == self.bank && t.Entity == self.entity && id == self.id {
			out[i] = self
			continue
		}
		owners := []string{""}
		if self.owner != "" {
			owners = []string{self.owner, ""}
		}
		for _, o := range owners {
			if !validID(id) {
				break
			}
			_, err := tx.Get(recordsBucket(t.BankID, t.Entity, o), id)
			if err == nil {
				out[i] = rec{t.BankID, t.Entity, o, id}
				break
			}
			if !errors.Is(err, engine.ErrNotFound) {
				return nil, err
			}
		}
		if out[i].id == "" {
			faults = append(faults, engine.Violation{Location: "body", Pointer: "/" + f, Code: CodeReferenceNotFound,
				Message: fmt.Sprintf("%s: no %s with id %q", f, t.Entity, id)})
		}
	}
	if len(faults) > 0 {
		return nil, engine.NewError(http.StatusBadRequest, CodeReferenceNotFound, faults[0].Message, faults...)
	}
	return out, nil
}

// putLinks writes the back-links of self to the targets resolve found.
func putLinks(tx engine.Tx, l *layout, self rec, targets []rec) error {
	for i, f := range l.refs {
		if targets[i].id != "" {
			if err := tx.Put(refsBucket, linkKey(targets[i], self, f), nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// dropLinks removes the back-links of self's references, wherever they
// resolved (the owner's records or the shared ones).
func dropLinks(tx engine.Tx, l *layout, self rec, p *prepared) error {
	for i, f := range l.refs {
		if p.refs[i] == "" {
			continue
		}
		t := l.targets[i]
		if err := tx.Delete(refsBucket, linkKey(rec{t.BankID, t.Entity, "", p.refs[i]}, self, f)); err != nil {
			return err
		}
		if self.owner != "" {
			if err := tx.Delete(refsBucket, linkKey(rec{t.BankID, t.Entity, self.owner, p.refs[i]}, self, f)); err != nil {
				return err
			}
		}
	}
	return nil
}

// addCount adds delta to the record count of (bank, entity, owner). The
// count keys also list the owners that have records.
func addCount(tx engine.Tx, bank, entity, owner string, delta int) error {
	key := countKey(bank, entity, owner)
	n, err := readCount(tx, key)
	if err != nil {
		return err
	}
	if n += delta; n < 0 {
		return fmt.Errorf("records: count of %s/%s/%s below zero", bank, entity, owner)
	}
	if n == 0 {
		return tx.Delete(metaBucket, key)
	}
	return tx.Put(metaBucket, key, strconv.AppendInt(nil, int64(n), 10))
}

func readCount(tx engine.Tx, key string) (int, error) {
	v, err := tx.Get(metaBucket, key)
	if errors.Is(err, engine.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(string(v))
	if err != nil {
		return 0, fmt.Errorf("records: count %q: %w", key, err)
	}
	return n, nil
}

// owners returns every owner with records of (bank, entity), "" for the
// shared records, with their counts.
func owners(tx engine.Tx, bank, entity string) (map[string]int, error) {
	out := map[string]int{}
	prefix := countPrefix(bank, entity)
	err := tx.Scan(metaBucket, prefix, func(k string, v []byte) error {
		o, err := unesc(k[len(prefix):])
		if err != nil {
			return fmt.Errorf("records: count key %q: %w", k, err)
		}
		n, err := strconv.Atoi(string(v))
		if err != nil {
			return fmt.Errorf("records: count %q: %w", k, err)
		}
		out[o] = n
		return nil
	})
	return out, err
}

// hasRecords reports whether (bank, entity) has any record.
func hasRecords(tx engine.Tx, bank, entity string) (bool, error) {
	found := false
	err := tx.Scan(metaBucket, countPrefix(bank, entity), func(string, []byte) error {
		found = true
		return engine.ErrStop
	})
	return found, err
}

// storedLayout returns the layout the records of (bank, entity) are
// indexed with, or nil if none is stored.
func storedLayout(tx engine.Tx, bank, entity string) (*layout, error) {
	raw, err := tx.Get(metaBucket, schemaKey(bank, entity))
	if errors.Is(err, engine.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return parseLayout(bank, entity, raw)
}

// ensureSchema checks that the records of l's entity are indexed as l
// says. With none, any schema goes (and write stores l's); with records
// indexed otherwise, it is a 409 reindex_required.
func ensureSchema(tx engine.Tx, l *layout, write bool) error {
	key := schemaKey(l.bank, l.entity)
	cur, err := tx.Get(metaBucket, key)
	switch {
	case err == nil && bytes.Equal(cur, l.sig):
		return nil
	case err != nil && !errors.Is(err, engine.ErrNotFound):
		return err
	}
	has, err := hasRecords(tx, l.bank, l.entity)
	if err != nil {
		return err
	}
	if has {
		return reindexRequired(l)
	}
	if write {
		return tx.Put(metaBucket, key, l.sig)
	}
	return nil
}

func reindexRequired(l *layout) error {
	return engine.Errorf(http.StatusConflict, CodeReindexRequired,
		"the records of %s are indexed for an earlier definition; they must be reindexed first", l.entity)
}

// Get returns one record, or a 404 not_found.
func (s *Store) Get(ctx context.Context, sc *Schema, owner, id string) (*Stored, error) {
	st := &Stored{}
	err := s.Read(ctx, sc, owner, id, func(raw []byte) error {
		st.Raw, st.ETag = bytes.Clone(raw), etagOf(raw)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if st.Record, err = decode(st.Raw); err != nil {
		return nil, engine.Surface(err)
	}
	return st, nil
}

// Read calls fn with one record's stored bytes, or returns a 404
// not_found. raw is the store's own memory, valid only until fn returns
// (inside the read transaction): fn copies what it keeps, so a read that
// writes the record straight into an answer copies it once. AppendETag
// gives its entity tag. fn's error is returned as it is.
func (s *Store) Read(ctx context.Context, sc *Schema, owner, id string, fn func(raw []byte) error) error {
	l, err := scope(sc, owner)
	if err != nil {
		return err
	}
	if !validID(id) {
		return notFound(l, id)
	}
	var fnErr error
	err = s.db.View(ctx, func(tx engine.Tx) error {
		raw, err := current(tx, l, owner, id, nil)
		if err != nil {
			return err
		}
		fnErr = fn(raw)
		return nil
	})
	if err != nil {
		return engine.Surface(err)
	}
	return fnErr
}

// Replace replaces a record as a whole, if cond holds, and returns it.
// The primary key is fixed: the record may omit it or repeat it, anything
// else is a 400 primary_key_fixed. Index entries follow the new values and
// references are checked again, as for Create. The record stays charged
// to whom it was, and growth past their Quota is refused.
func (s *Store) Replace(ctx context.Context, sc *Schema, owner, id string, record map[string]any, cond IfMatch) (*Stored, error) {
	l, err := scope(sc, owner)
	if err != nil {
		return nil, err
	}
	if !validID(id) {
		return nil, notFound(l, id)
	}
	p, err := l.replacement(record, id)
	if err != nil {
		return nil, err
	}
	err = s.db.Update(ctx, func(tx engine.Tx) error {
		if err := ensureSchema(tx, l, true); err != nil {
			return err
		}
		raw, err := current(tx, l, owner, id, cond)
		if err != nil {
			return err
		}
		return s.replaced(tx, l, owner, p, raw)
	})
	if err != nil {
		return nil, engine.Surface(err)
	}
	return &Stored{Record: p.record, ETag: etagOf(p.raw), Raw: p.raw}, nil
}

// Update changes a record in one transaction, if cond holds: change gets
// the record as stored (numbers as json.Number) and returns the record to
// store in its place, which is then stored as by Replace. So concurrent
// Updates never lose each other's changes. change runs inside the write
// transaction and must not call the Store; an error from it is returned
// as it is and changes nothing.
func (s *Store) Update(ctx context.Context, sc *Schema, owner, id string, cond IfMatch, change func(map[string]any) (map[string]any, error)) (*Stored, error) {
	l, err := scope(sc, owner)
	if err != nil {
		return nil, err
	}
	if !validID(id) {
		return nil, notFound(l, id)
	}
	var p *prepared
	err = s.db.Update(ctx, func(tx engine.Tx) error {
		if err := ensureSchema(tx, l, true); err != nil {
			return err
		}
		raw, err := current(tx, l, owner, id, cond)
		if err != nil {
			return err
		}
		cur, err := decode(raw)
		if err != nil {
			return err
		}
		next, err := change(cur)
		if err != nil {
			return err
		}
		if p, err = l.replacement(next, id); err != nil {
			return err
		}
		return s.replaced(tx, l, owner, p, raw)
	})
	if err != nil {
		return nil, engine.Surface(err)
	}
	return &Stored{Record: p.record, ETag: etagOf(p.raw), Raw: p.raw}, nil
}

// replaced replaces the stored record raw with p, as Replace and Update
// do, and emits record.updated.
func (s *Store) replaced(tx engine.Tx, l *layout, owner string, p *prepared, raw []byte) error {
	if err := replace(tx, l, owner, p, l, raw, &s.quota); err != nil {
		return err
	}
	return s.emit(tx, events.TypeRecordUpdated, rec{l.bank, l.entity, owner, p.id}, p.raw)
}

// replacement prepares record to replace the one with id: the primary key
// may be absent or id, and is set to id in a copy.
func (l *layout) replacement(record map[string]any, id string) (*prepared, error) {
	out := maps.Clone(record)
	if out == nil {
		out = map[string]any{}
	}
	if v, ok := out[l.pk]; ok && v != nil && v != any(id) {
		return nil, engine.NewError(http.StatusBadRequest, CodePrimaryKeyFixed, "the primary key cannot change",
			engine.Violation{Location: "body", Pointer: "/" + l.pk, Code: CodePrimaryKeyFixed,
				Message: fmt.Sprintf("%s must be %q or absent", l.pk, id)})
	}
	out[l.pk] = id
	return l.prepare(out, id)
}

// replace overwrites the stored record raw with p: old is the layout the
// stored record is indexed with, l the one to index p with. The charge of
// the record follows its size, bounded by q (nil: no bound).
func replace(tx engine.Tx, l *layout, owner string, p *prepared, old *layout, raw []byte, q *Quota) error {
	bucket := l.records(owner)
	self := rec{l.bank, l.entity, owner, p.id}
	if err := recharge(tx, q, self, len(raw), len(p.raw)); err != nil {
		return err
	}
	var was *prepared
	if old != nil {
		prev, err := decode(raw)
		if err != nil {
			return err
		}
		if was, err = old.entries(prev, p.id); err != nil {
			return err
		}
	}
	targets, err := resolve(tx, l, self, p)
	if err != nil {
		return err
	}
	// With the same schema only the entries that changed are rewritten;
	// in a migration every old entry goes and every new one is written.
	same := was != nil && bytes.Equal(old.sig, l.sig)
	if was != nil {
		for i, f := range old.fields {
			if same && was.keys[i] == p.keys[i] {
				continue
			}
			if err := tx.Delete(old.index(owner, f), was.keys[i]); err != nil {
				return err
			}
		}
		if err := dropLinks(tx, old, self, was); err != nil {
			return err
		}
	}
	for i, f := range l.fields {
		if same && was.keys[i] == p.keys[i] {
			continue
		}
		if err := tx.Put(l.index(owner, f), p.keys[i], nil); err != nil {
			return err
		}
	}
	if err := putLinks(tx, l, self, targets); err != nil {
		return err
	}
	return tx.Put(bucket, p.id, p.raw)
}

// Delete deletes a record, if cond holds. One that other records
// reference is refused with a 409 referenced naming a few of them, unless
// cascade, which deletes the referrers too, and theirs, recursively, in
// the same transaction. Each record deleted is taken off its user's usage
// (and, with Options.Events, reported by a record.deleted event).
func (s *Store) Delete(ctx context.Context, sc *Schema, owner, id string, cascade bool, cond IfMatch) error {
	l, err := scope(sc, owner)
	if err != nil {
		return err
	}
	err = s.db.Update(ctx, func(tx engine.Tx) error {
		if !validID(id) {
			return notFound(l, id)
		}
		if _, err := current(tx, l, owner, id, cond); err != nil {
			return err
		}
		root := rec{l.bank, l.entity, owner, id}
		if !cascade {
			refs, n, err := referrers(tx, root, maxListedReferrers)
			if err != nil {
				return err
			}
			if n > 0 {
				return referenced(l, root, refs, n)
			}
			return s.removed(tx, []rec{root})
		}
		all, err := closure(tx, root)
		if err != nil {
			return err
		}
		return s.removed(tx, all)
	})
	return engine.Surface(err)
}

// removed deletes the records all, as Delete does, and emits
// record.deleted for each.
func (s *Store) removed(tx engine.Tx, all []rec) error {
	if err := remove(tx, all); err != nil {
		return err
	}
	for _, r := range all {
		if err := s.emit(tx, events.TypeRecordDeleted, r, nil); err != nil {
			return err
		}
	}
	return nil
}

// referenced is the 409 refusing to delete target. It names referrers of
// target's owner (or shared ones); other users' records only by count.
func referenced(l *layout, target rec, refs []Referrer, total int) error {
	var names []string
	hidden := 0
	for _, r := range refs {
		if r.Owner != "" && r.Owner != target.owner {
			hidden++
			continue
		}
		names = append(names, fmt.Sprintf("%s %q", r.Entity, r.ID))
	}
	if hidden > 0 {
		names = append(names, fmt.Sprintf("%d of other users", hidden))
	}
	more := ""
	if total > len(refs) {
		more = ", …"
	}
	return engine.Errorf(http.StatusConflict, CodeReferenced,
		"%s %q is referenced by %s%s; delete those first or delete with cascade",
		l.entity, target.id, strings.Join(names, ", "), more)
}

// referrers returns up to max (0: all) records referencing target, other
// than target itself, and how many there are (counting stops past max).
func referrers(tx engine.Tx, target rec, max int) ([]Referrer, int, error) {
	var out []Referrer
	n := 0
	err := tx.Scan(refsBucket, linkPrefix(target), func(k string, _ []byte) error {
		_, r, field, err := parseLink(k)
		if err != nil {
			return err
		}
		if r == target {
			return nil
		}
		if n++; max > 0 && n > max {
			return engine.ErrStop
		}
		out = append(out, Referrer{BankID: r.bank, Entity: r.entity, Owner: r.owner, ID: r.id, Field: field})
		return nil
	})
	return out, n, err
}

// closure returns root and every record that references it, directly or
// through others, each once.
func closure(tx engine.Tx, root rec) ([]rec, error) {
	seen := map[rec]bool{root: true}
	all := []rec{root}
	for i := 0; i < len(all); i++ {
		refs, _, err := referrers(tx, all[i], 0)
		if err != nil {
			return nil, err
		}
		for _, r := range refs {
			next := rec{r.BankID, r.Entity, r.Owner, r.ID}
			if !seen[next] {
				seen[next] = true
				all = append(all, next)
			}
		}
	}
	return all, nil
}

// remove deletes records with their index entries and back-links, each
// indexed as the stored schema of its entity says.
func remove(tx engine.Tx, all []rec) error {
	type be struct{ bank, entity string }
	layouts := map[be]*layout{}
	counts := map[rec]int{} // keyed by (bank, entity, owner)
	for _, r := range all {
		l, ok := layouts[be{r.bank, r.entity}]
		if !ok {
			var err error
			if l, err = storedLayout(tx, r.bank, r.entity); err != nil {
				return err
			}
			if l == nil {
				return fmt.Errorf("records: no stored schema for %s/%s, which has records", r.bank, r.entity)
			}
			layouts[be{r.bank, r.entity}] = l
		}
		if err := removeOne(tx, l, r); err != nil {
			return err
		}
		counts[rec{r.bank, r.entity, r.owner, ""}]--
	}
	for k, d := range counts {
		if err := addCount(tx, k.bank, k.entity, k.owner, d); err != nil {
			return err
		}
	}
	return nil
}

// removeOne deletes one record, its index entries and its back-links; the
// count is the caller's.
func removeOne(tx engine.Tx, l *layout, r rec) error {
	bucket := l.records(r.owner)
	raw, err := tx.Get(bucket, r.id)
	if err != nil {
		return fmt.Errorf("records: remove %s %q: %w", r.entity, r.id, err)
	}
	m, err := decode(raw)
	if err != nil {
		return err
	}
	p, err := l.entries(m, r.id)
	if err != nil {
		return err
	}
	for i, f := range l.fields {
		if err := tx.Delete(l.index(r.owner, f), p.keys[i]); err != nil {
			return err
		}
	}
	if err := dropLinks(tx, l, r, p); err != nil {
		return err
	}
	if err := refund(tx, r, len(raw)); err != nil {
		return err
	}
	return tx.Delete(bucket, r.id)
}

// Referrers returns up to max (0: all) records that reference the given
// one, other than itself.
func (s *Store) Referrers(ctx context.Context, sc *Schema, owner, id string, max int) ([]Referrer, error) {
	l, err := scope(sc, owner)
	if err != nil {
		return nil, err
	}
	var out []Referrer
	err = s.db.View(ctx, func(tx engine.Tx) error {
		out, _, err = referrers(tx, rec{l.bank, l.entity, owner, id}, max)
		return err
	})
	return out, engine.Surface(err)
}

// Count returns how many records owner has ("" the shared ones).
func (s *Store) Count(ctx context.Context, sc *Schema, owner string) (int, error) {
	l, err := scope(sc, owner)
	if err != nil {
		return 0, err
	}
	n := 0
	err = s.db.View(ctx, func(tx engine.Tx) error {
		n, err = readCount(tx, countKey(l.bank, l.entity, owner))
		return err
	})
	return n, engine.Surface(err)
}

// CountAll returns how many records the entity has, of every owner.
func (s *Store) CountAll(ctx context.Context, sc *Schema) (int, error) {
	n := 0
	err := s.db.View(ctx, func(tx engine.Tx) (err error) {
		n, err = s.CountAllIn(tx, sc)
		return err
	})
	return n, engine.Surface(err)
}

// CountAllIn is CountAll inside tx, a transaction of the caller's.
func (s *Store) CountAllIn(tx engine.Tx, sc *Schema) (int, error) {
	l, err := layoutOf(sc)
	if err != nil {
		return 0, err
	}
	all, err := owners(tx, l.bank, l.entity)
	n := 0
	for _, c := range all {
		n += c
	}
	return n, err
}

// Each calls fn with every record of owner, in primary key order, inside
// one read transaction: fn sees a consistent snapshot and must not call
// the Store. An error from fn ends Each and is returned, except
// engine.ErrStop, which ends it with nil.
func (s *Store) Each(ctx context.Context, sc *Schema, owner string, fn func(record map[string]any) error) error {
	l, err := scope(sc, owner)
	if err != nil {
		return err
	}
	return s.db.View(ctx, func(tx engine.Tx) error { return each(tx, l, owner, fn) })
}

// EachAll is Each over the records of every owner, shared ones first.
func (s *Store) EachAll(ctx context.Context, sc *Schema, fn func(record map[string]any) error) error {
	return s.db.View(ctx, func(tx engine.Tx) error { return s.EachAllIn(tx, sc, fn) })
}

// EachAllIn is EachAll inside tx, a transaction of the caller's: fn sees
// the records as tx does and must not write to them.
func (s *Store) EachAllIn(tx engine.Tx, sc *Schema, fn func(record map[string]any) error) error {
	l, err := layoutOf(sc)
	if err != nil {
		return err
	}
	all, err := owners(tx, l.bank, l.entity)
	if err != nil {
		return err
	}
	for _, o := range sortedOwners(all) {
		err := each(tx, l, o, func(m map[string]any) error {
			err := fn(m)
			if errors.Is(err, engine.ErrStop) {
				return errStopped // end every owner's scan, not just this one
			}
			return err
		})
		if errors.Is(err, errStopped) {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// errStopped ends EachAllIn's scans of the other owners once fn stopped.
var errStopped = errors.New("records: stopped")

// sortedOwners returns the owners of a count map, "" (shared) first.
func sortedOwners(counts map[string]int) []string {
	return slices.Sorted(maps.Keys(counts))
}

func each(tx engine.Tx, l *layout, owner string, fn func(map[string]any) error) error {
	return tx.Scan(l.records(owner), "", func(_ string, raw []byte) error {
		m, err := decode(raw)
		if err != nil {
			return err
		}
		return fn(m)
	})
}

// recordIDs returns the ids of owner's records, so that the caller can
// write while going through them.
func recordIDs(tx engine.Tx, l *layout, owner string) ([]string, error) {
	var ids []string
	err := tx.Scan(l.records(owner), "", func(k string, _ []byte) error {
		ids = append(ids, k)
		return nil
	})
	return ids, err
}

// DeleteAll deletes every record of the entity, of every owner, in one
// transaction, and forgets its stored schema; it returns how many it
// deleted. Records of other entities that reference them make it a 409
// referenced, deleting nothing. It emits no record.deleted events: the
// entity itself is going (see Options.Events).
func (s *Store) DeleteAll(ctx context.Context, sc *Schema) (int, error) {
	return s.update(ctx, func(tx engine.Tx) (int, error) { return s.DeleteAllIn(tx, sc) })
}

// DeleteAllIn is DeleteAll inside tx, a write transaction of the caller's
// (the one that forgets the entity's definition): a refusal is returned
// for the caller to roll back.
func (s *Store) DeleteAllIn(tx engine.Tx, sc *Schema) (int, error) {
	return everyRecord(tx, sc, func(tx engine.Tx, l, stored *layout, all map[string]int) (int, error) {
		if stored == nil {
			stored = l
		}
		var doomed []rec
		for _, o := range sortedOwners(all) {
			ids, err := recordIDs(tx, stored, o)
			if err != nil {
				return 0, err
			}
			for _, id := range ids {
				r := rec{l.bank, l.entity, o, id}
				refs, _, err := referrers(tx, r, 0)
				if err != nil {
					return 0, err
				}
				var outside []Referrer
				for _, x := range refs {
					if x.BankID != l.bank || x.Entity != l.entity {
						outside = append(outside, x)
					}
				}
				if len(outside) > 0 {
					return 0, referenced(l, r, outside[:min(len(outside), maxListedReferrers)], len(outside))
				}
				doomed = append(doomed, r)
			}
		}
		for _, r := range doomed {
			if err := removeOne(tx, stored, r); err != nil {
				return 0, err
			}
		}
		for o := range all {
			if err := tx.Delete(metaBucket, countKey(l.bank, l.entity, o)); err != nil {
				return 0, err
			}
		}
		if err := forgetUsage(tx, l.bank, l.entity); err != nil {
			return 0, err
		}
		return len(doomed), tx.Delete(metaBucket, schemaKey(l.bank, l.entity))
	})
}

// update runs fn in a write transaction of its own.
func (s *Store) update(ctx context.Context, fn func(tx engine.Tx) (int, error)) (int, error) {
	n := 0
	err := s.db.Update(ctx, func(tx engine.Tx) (err error) {
		n, err = fn(tx)
		return err
	})
	if err != nil {
		return 0, engine.Surface(err)
	}
	return n, nil
}

// everyRecord runs fn in write transaction tx with the entity's layout,
// the layout stored for it (nil when none) and the record count of each
// owner; fn returns how many records it changed.
func everyRecord(tx engine.Tx, sc *Schema, fn func(tx engine.Tx, l, stored *layout, all map[string]int) (int, error)) (int, error) {
	l, err := layoutOf(sc)
	if err != nil {
		return 0, err
	}
	stored, err := storedLayout(tx, l.bank, l.entity)
	if err != nil {
		return 0, err
	}
	all, err := owners(tx, l.bank, l.entity)
	if err != nil {
		return 0, err
	}
	return fn(tx, l, stored, all)
}

// ReplaceAll rewrites every record of the entity, of every owner, with
// what fn returns for it, in one transaction, indexing them as sc says;
// it returns how many it rewrote. It is the migration after a definition
// changed, and what makes a changed schema usable (see Reindex). fn may
// keep or omit the primary key but not change it; an error from fn or a
// record that cannot be stored (400, naming its id) rolls everything
// back. fn runs inside the write transaction and must not call the Store.
// It emits no record.updated events: a migration changes the definition,
// not the records' business meaning (see Options.Events).
func (s *Store) ReplaceAll(ctx context.Context, sc *Schema, fn func(record map[string]any) (map[string]any, error)) (int, error) {
	return s.update(ctx, func(tx engine.Tx) (int, error) { return s.ReplaceAllIn(tx, sc, fn) })
}

// ReplaceAllIn is ReplaceAll inside tx, a write transaction of the
// caller's (the one that stores the definition the records migrate to):
// an error is returned for the caller to roll back.
func (s *Store) ReplaceAllIn(tx engine.Tx, sc *Schema, fn func(record map[string]any) (map[string]any, error)) (int, error) {
	return everyRecord(tx, sc, func(tx engine.Tx, l, old *layout, all map[string]int) (int, error) {
		if old == nil && len(all) > 0 {
			return 0, fmt.Errorf("records: %s has records but no stored schema", l.name())
		}
		n := 0
		for _, o := range sortedOwners(all) {
			ids, err := recordIDs(tx, l, o)
			if err != nil {
				return 0, err
			}
			for _, id := range ids {
				if err := rewrite(tx, l, old, o, id, fn); err != nil {
					return 0, err
				}
				n++
			}
		}
		return n, tx.Put(metaBucket, schemaKey(l.bank, l.entity), l.sig)
	})
}

// rewrite replaces one record with fn's version of it during ReplaceAll.
func rewrite(tx engine.Tx, l, old *layout, owner, id string, fn func(map[string]any) (map[string]any, error)) error {
	raw, err := tx.Get(l.records(owner), id)
	if err != nil {
		return err
	}
	m, err := decode(raw)
	if err != nil {
		return err
	}
	next, err := fn(m)
	if err != nil {
		return err
	}
	next = maps.Clone(next)
	if next == nil {
		return fmt.Errorf("records: migration of %s %q returned no record", l.entity, id)
	}
	if v, ok := next[l.pk]; !ok || v == nil {
		next[l.pk] = id
	} else if v != any(id) {
		return engine.Errorf(http.StatusBadRequest, CodePrimaryKeyFixed,
			"migration of %s %q changes its primary key to %v", l.entity, id, v)
	}
	p, err := l.prepare(next, id)
	if err != nil {
		var e *engine.Error
		if errors.As(err, &e) {
			e.Message = fmt.Sprintf("%s %q after migration: %s", l.entity, id, e.Message)
		}
		return err
	}
	if err := replace(tx, l, owner, p, old, raw, nil); err != nil {
		var e *engine.Error
		if errors.As(err, &e) && e.Code == CodeReferenceNotFound {
			e.Message = fmt.Sprintf("%s %q after migration: %s", l.entity, id, e.Message)
		}
		return err
	}
	return nil
}

// Reindex rebuilds the indexes and back-links of every record of the
// entity for sc, leaving the records as they are. Call it (or ReplaceAll)
// after a definition change that changed the Schema, before the new
// Schema is used; until then writes and lists with it answer 409
// reindex_required.
func (s *Store) Reindex(ctx context.Context, sc *Schema) (int, error) {
	return s.update(ctx, func(tx engine.Tx) (int, error) { return s.ReindexIn(tx, sc) })
}

// ReindexIn is Reindex inside tx, a write transaction of the caller's.
func (s *Store) ReindexIn(tx engine.Tx, sc *Schema) (int, error) {
	return s.ReplaceAllIn(tx, sc, func(m map[string]any) (map[string]any, error) { return m, nil })
}

// NeedsReindex reports whether the records of the entity are indexed for
// a Schema other than sc (false when there are none).
func (s *Store) NeedsReindex(ctx context.Context, sc *Schema) (bool, error) {
	needs := false
	err := s.db.View(ctx, func(tx engine.Tx) (err error) {
		needs, err = s.NeedsReindexIn(tx, sc)
		return err
	})
	return needs, engine.Surface(err)
}

// NeedsReindexIn is NeedsReindex inside tx, a transaction of the caller's.
func (s *Store) NeedsReindexIn(tx engine.Tx, sc *Schema) (bool, error) {
	l, err := layoutOf(sc)
	if err != nil {
		return false, err
	}
	err = ensureSchema(tx, l, false)
	var e *engine.Error
	if errors.As(err, &e) && e.Code == CodeReindexRequired {
		return true, nil
	}
	return false, err
}
