// Package banks holds the banks: the spaces that bank-level documents,
// entities and entitlements belong to. Banks are their own package, not
// part of identity or authorisation, because the banking core and the
// record host read them as much as access control does; authorisation
// only checks that a bank it grants at exists.
package banks

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/viewtx"
	"github.com/dynapi/dynapi/internal/ident"
	"github.com/dynapi/dynapi/internal/kvjson"
)

// bucket holds the banks: bank id -> Bank. Its name predates this package
// and is kept so existing stores read on.
const bucket = "access_banks"

// CodeBankExists is the Error.Code of a bank created twice.
const CodeBankExists = "bank_exists"

// Bank is a space that bank-level documents, entities and entitlements
// belong to.
type Bank struct {
	ID        string    `json:"bank_id"`
	ShortName string    `json:"short_name"`
	FullName  string    `json:"full_name"`
	Logo      string    `json:"logo,omitempty"`
	Website   string    `json:"website,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Service keeps the banks in a store, with an in-memory view of their ids
// for Exists. It is safe for concurrent use.
type Service struct {
	w     *viewtx.Writer
	audit *audit.Log
	now   func() time.Time
	ids   atomic.Pointer[map[string]struct{}]
}

// New returns the banks written through w, audited to log, loading their
// ids from the store. now is the clock, time.Now when nil.
func New(ctx context.Context, w *viewtx.Writer, log *audit.Log, now func() time.Time) (*Service, error) {
	if now == nil {
		now = time.Now
	}
	s := &Service{w: w, audit: log, now: now}
	ids := map[string]struct{}{}
	err := w.View(ctx, func(tx engine.Tx) error {
		return tx.Scan(bucket, "", func(k string, _ []byte) error {
			ids[k] = struct{}{}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	s.ids.Store(&ids)
	return s, nil
}

func notFound(id string) error {
	return engine.Errorf(http.StatusNotFound, engine.CodeNotFound, "bank %q not found", id)
}

// CreateTx creates a bank inside tx. Its id matches
// ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$ and is unique (409 bank_exists);
// names are at most 256 characters, logo and website 2048. CreatedAt is
// set here. Audit-logged as "bank.create" by a.
func (s *Service) CreateTx(tx *viewtx.Tx, a audit.Actor, b Bank) (*Bank, error) {
	var faults []engine.Violation
	if !ident.Valid(b.ID) {
		faults = append(faults, engine.Violation{Location: "body", Pointer: "/bank_id", Code: "pattern",
			Message: "a bank id is " + ident.Rule})
	}
	for _, f := range []struct {
		ptr, v string
		max    int
	}{{"/short_name", b.ShortName, 256}, {"/full_name", b.FullName, 256}, {"/logo", b.Logo, 2048}, {"/website", b.Website, 2048}} {
		if len(f.v) > f.max {
			faults = append(faults, engine.Violation{Location: "body", Pointer: f.ptr, Code: "max_length",
				Message: "at most " + strconv.Itoa(f.max) + " characters"})
		}
	}
	if faults != nil {
		return nil, engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed, "the bank cannot be created", faults...)
	}
	b.CreatedAt = s.now().UTC()
	taken, err := ExistsTx(tx, b.ID)
	if err != nil {
		return nil, err
	}
	if taken {
		return nil, engine.Errorf(http.StatusConflict, CodeBankExists, "bank %q exists already", b.ID)
	}
	if err := kvjson.Put(tx, bucket, b.ID, &b); err != nil {
		return nil, err
	}
	tx.Reveal(func() { s.add(b.ID) })
	if err := s.audit.Append(tx, a, "bank.create", b.ID, b.ID, map[string]any{"short_name": b.ShortName}); err != nil {
		return nil, err
	}
	return &b, nil
}

// add swaps in the id view with id added.
func (s *Service) add(id string) {
	old := *s.ids.Load()
	next := make(map[string]struct{}, len(old)+1)
	for k := range old {
		next[k] = struct{}{}
	}
	next[id] = struct{}{}
	s.ids.Store(&next)
}

// ExistsTx reports whether bank id exists, inside tx.
func ExistsTx(tx engine.Tx, id string) (bool, error) { return kvjson.Exists(tx, bucket, id) }

// RequireTx is a 404 when bank id does not exist, inside tx.
func RequireTx(tx engine.Tx, id string) error {
	ok, err := ExistsTx(tx, id)
	if err == nil && !ok {
		err = notFound(id)
	}
	return err
}

// Get returns the bank with id, or a 404.
func (s *Service) Get(ctx context.Context, id string) (*Bank, error) {
	var out *Bank
	err := s.w.View(ctx, func(tx engine.Tx) error {
		b, err := kvjson.Get[Bank](tx, bucket, id)
		if errors.Is(err, engine.ErrNotFound) {
			return notFound(id)
		}
		out = b
		return err
	})
	return out, err
}

// Exists reports whether bank id exists, from the in-memory view, without
// locks.
func (s *Service) Exists(id string) bool {
	_, ok := (*s.ids.Load())[id]
	return ok
}

// List returns every bank, by id.
func (s *Service) List(ctx context.Context) ([]*Bank, error) {
	var out []*Bank
	err := s.w.View(ctx, func(tx engine.Tx) error {
		out = nil
		return tx.Scan(bucket, "", func(_ string, v []byte) error {
			b, err := kvjson.Decode[Bank](v)
			if err == nil {
				out = append(out, b)
			}
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b *Bank) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}
