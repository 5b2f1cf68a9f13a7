package records

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/dynapi/dynapi/engine"
)

// Kind is how an indexed field's values are encoded so that byte order
// equals value order. The zero Kind is invalid, so that a forgotten one is
// caught rather than indexed as a string.
type Kind int

const (
	// KindString orders by the UTF-8 bytes.
	KindString Kind = iota + 1
	// KindNumber orders numerically as float64 (integers too).
	KindNumber
	// KindBool orders false before true.
	KindBool
	// KindDate holds "yyyy-MM-dd" dates, ordered as text.
	KindDate
)

var kindNames = map[Kind]string{KindString: "string", KindNumber: "number", KindBool: "bool", KindDate: "date"}

// String returns the kind's name: string, number, bool or date.
func (k Kind) String() string {
	if n, ok := kindNames[k]; ok {
		return n
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// MarshalText encodes the kind by name, as kept in the stored schema.
func (k Kind) MarshalText() ([]byte, error) {
	if n, ok := kindNames[k]; ok {
		return []byte(n), nil
	}
	return nil, fmt.Errorf("records: invalid kind %d", int(k))
}

// UnmarshalText decodes a kind name.
func (k *Kind) UnmarshalText(b []byte) error {
	for kind, n := range kindNames {
		if n == string(b) {
			*k = kind
			return nil
		}
	}
	return fmt.Errorf("records: unknown kind %q", b)
}

// Target is the entity a reference field points at.
type Target struct {
	BankID string `json:"bank_id,omitempty"` // "" system level
	Entity string `json:"entity"`
}

// Schema is what the store needs to know of an entity type; the caller
// builds it from the definition. The store keeps a copy of the parts that
// shape its indexes (PrimaryKey, Indexed, References) and refuses writes
// and lists with a different copy until Reindex: see the package doc.
type Schema struct {
	BankID     string            // "" for system level; records of different banks never mix
	Entity     string            // e.g. "LoanOffer"
	PrimaryKey string            // e.g. "loan_offer_id"; its values are strings
	Indexed    map[string]Kind   // top-level scalar fields to index (all of them, so any filter is indexed)
	References map[string]Target // field -> referenced entity
	Personal   bool              // records belong to an owner user
}

// signature is the stored form of the parts of a Schema that shape the
// indexes. json.Marshal sorts map keys, so equal schemas give equal bytes.
type signature struct {
	PrimaryKey string            `json:"primary_key"`
	Indexed    map[string]Kind   `json:"indexed,omitempty"`
	References map[string]Target `json:"references,omitempty"`
}

// layout is a checked schema in the form the store works with.
type layout struct {
	bank, entity, pk string
	personal         bool
	fields           []string // indexed fields, sorted
	kinds            []Kind   // kinds[i] is the kind of fields[i]
	refs             []string // reference fields, sorted
	targets          []Target // targets[i] is where refs[i] points
	sig              []byte
	shared           string // the bucket of the shared records (owner "")
}

// layoutOf checks sc and returns its layout. A malformed Schema is the
// caller's bug, reported as an internal error. Layouts are cached per
// Schema (see layouts), so that a request does not rebuild one.
func layoutOf(sc *Schema) (*layout, error) {
	if sc == nil {
		return nil, engine.Internal(fmt.Errorf("records: nil schema"))
	}
	if c, ok := layouts.Load(sc); ok {
		if c := c.(*cachedLayout); c.of.equal(sc) {
			return c.l, nil
		}
	}
	sig := signature{PrimaryKey: sc.PrimaryKey, Indexed: sc.Indexed, References: sc.References}
	l, err := layoutFromSignature(sc.BankID, sc.Entity, sig)
	if err != nil {
		return nil, engine.Internal(err)
	}
	l.personal = sc.Personal
	if _, loaded := layouts.Swap(sc, &cachedLayout{of: sc.clone(), l: l}); !loaded && cachedLayouts.Add(1) > maxCachedLayouts {
		layouts.Clear()
		cachedLayouts.Store(0)
	}
	return l, nil
}

// layouts caches layoutOf: *Schema -> *cachedLayout. An entry is used only
// while its Schema still equals the copy it was built from, so a caller may
// change a Schema between calls. Schemas are made once per entity
// definition; should a process make more than maxCachedLayouts of them,
// the cache starts again rather than keep them all.
var (
	layouts       sync.Map
	cachedLayouts atomic.Int64
)

const maxCachedLayouts = 4096

// cachedLayout is the layout built from a Schema equal to of.
type cachedLayout struct {
	of Schema
	l  *layout
}

func (sc *Schema) clone() Schema {
	c := *sc
	c.Indexed, c.References = maps.Clone(sc.Indexed), maps.Clone(sc.References)
	return c
}

func (sc *Schema) equal(o *Schema) bool {
	return sc.BankID == o.BankID && sc.Entity == o.Entity && sc.PrimaryKey == o.PrimaryKey &&
		sc.Personal == o.Personal && maps.Equal(sc.Indexed, o.Indexed) && maps.Equal(sc.References, o.References)
}

// layoutFromSignature builds the layout of a stored signature.
func layoutFromSignature(bank, entity string, sig signature) (*layout, error) {
	if entity == "" {
		return nil, fmt.Errorf("records: schema without an entity name")
	}
	if sig.PrimaryKey == "" {
		return nil, fmt.Errorf("records: schema of %s without a primary key", entity)
	}
	l := &layout{bank: bank, entity: entity, pk: sig.PrimaryKey, shared: recordsBucket(bank, entity, "")}
	for f, k := range sig.Indexed {
		if f == "" {
			return nil, fmt.Errorf("records: schema of %s indexes a field without a name", entity)
		}
		if _, ok := kindNames[k]; !ok {
			return nil, fmt.Errorf("records: schema of %s: field %s has invalid kind %d", entity, f, int(k))
		}
		l.fields = append(l.fields, f)
	}
	slices.Sort(l.fields)
	for _, f := range l.fields {
		l.kinds = append(l.kinds, sig.Indexed[f])
	}
	for f, t := range sig.References {
		if f == "" || t.Entity == "" {
			return nil, fmt.Errorf("records: schema of %s has a reference without field or target (%q -> %q)", entity, f, t.Entity)
		}
		l.refs = append(l.refs, f)
	}
	slices.Sort(l.refs)
	for _, f := range l.refs {
		l.targets = append(l.targets, sig.References[f])
	}
	b, err := json.Marshal(sig)
	if err != nil {
		return nil, fmt.Errorf("records: schema of %s: %w", entity, err)
	}
	l.sig = b
	return l, nil
}

// parseLayout decodes a stored signature.
func parseLayout(bank, entity string, raw []byte) (*layout, error) {
	var sig signature
	if err := json.Unmarshal(raw, &sig); err != nil {
		return nil, fmt.Errorf("records: stored schema of %s: %w", entity, err)
	}
	return layoutFromSignature(bank, entity, sig)
}

// checkOwner enforces the owner rule: personal entities need an owner,
// others must not have one. Either mistake is the caller's bug.
func (l *layout) checkOwner(owner string) error {
	switch {
	case l.personal && owner == "":
		return engine.Internal(fmt.Errorf("records: %s is personal: an owner is required", l.entity))
	case !l.personal && owner != "":
		return engine.Internal(fmt.Errorf("records: %s is not personal: no owner expected", l.entity))
	}
	return nil
}

// kindOf returns the kind of an indexed field.
func (l *layout) kindOf(field string) (Kind, bool) {
	if i, ok := slices.BinarySearch(l.fields, field); ok {
		return l.kinds[i], true
	}
	return 0, false
}

// name is "Entity" or "bank/Entity", for messages.
func (l *layout) name() string {
	if l.bank == "" {
		return l.entity
	}
	return l.bank + "/" + l.entity
}
