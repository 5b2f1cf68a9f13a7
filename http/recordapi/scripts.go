package recordapi

import (
	"context"
	"net/http"
	"slices"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/dynentity"
	"github.com/dynapi/dynapi/engine/guard"
	"github.com/dynapi/dynapi/internal/rolename"
)

// Scripted gives connector method scripts the shared records of dynamic
// entities, on behalf of the calling principal and within its rights: each
// call needs the entity's role for the action, as over HTTP.
type Scripted struct{ API *API }

// resolve finds the entity (at bankID, else system level) and checks the
// principal's role for the action.
func (s Scripted) resolve(ctx context.Context, p *engine.Principal, bankID, name string, v rolename.Verb) (*dynentity.Entity, error) {
	if p == nil {
		return nil, guard.Unauthenticated()
	}
	e, ok := s.API.Entities.Lookup(bankID, name)
	if !ok {
		bankID = ""
		e, ok = s.API.Entities.Lookup("", name)
	}
	if !ok {
		return nil, engine.Errorf(http.StatusNotFound, engine.CodeNotFound, "no entity %q here", name)
	}
	if err := s.API.Gate.Authorize(ctx, p, &guard.Rule{Roles: []string{dynentity.RoleName(e, v)}}, bankID); err != nil {
		return nil, err
	}
	return e, nil
}

// Get reads one record.
func (s Scripted) Get(ctx context.Context, p *engine.Principal, bankID, entity, id string) (map[string]any, error) {
	e, err := s.resolve(ctx, p, bankID, entity, rolename.Get)
	if err != nil {
		return nil, err
	}
	st, err := s.API.Records.Get(ctx, e.Schema, "", id)
	if err != nil {
		return nil, err
	}
	return st.Record, nil
}

// List reads the first page of records matching filter, which takes the
// same parameters as the list route's query (field=value, field[gte]=v,
// limit, sort_by, ...).
func (s Scripted) List(ctx context.Context, p *engine.Principal, bankID, entity string, filter map[string]string) ([]map[string]any, error) {
	e, err := s.resolve(ctx, p, bankID, entity, rolename.Get)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(filter))
	for k := range filter {
		names = append(names, k)
	}
	slices.Sort(names)
	q, err := query(e, e.Schema, func(fn func(name, value string)) {
		for _, k := range names {
			fn(k, filter[k])
		}
	})
	if err != nil {
		return nil, err
	}
	page, err := s.API.Records.List(ctx, e.Schema, "", q)
	if err != nil {
		return nil, err
	}
	return nonNil(page.Records), nil
}

// Create validates and stores a record, charged to the principal.
func (s Scripted) Create(ctx context.Context, p *engine.Principal, bankID, entity string, rec map[string]any) (map[string]any, error) {
	e, err := s.resolve(ctx, p, bankID, entity, rolename.Create)
	if err != nil {
		return nil, err
	}
	st, err := s.API.Writer.Create(ctx, e, "", p.UserID, rec)
	if err != nil {
		return nil, err
	}
	return st.Record, nil
}

// Update replaces a record.
func (s Scripted) Update(ctx context.Context, p *engine.Principal, bankID, entity, id string, rec map[string]any) (map[string]any, error) {
	e, err := s.resolve(ctx, p, bankID, entity, rolename.Update)
	if err != nil {
		return nil, err
	}
	st, err := s.API.Writer.Replace(ctx, e, "", id, rec, nil)
	if err != nil {
		return nil, err
	}
	return st.Record, nil
}

// Delete removes a record (not its dependants: a record still referenced
// is refused, as over HTTP without ?cascade=true).
func (s Scripted) Delete(ctx context.Context, p *engine.Principal, bankID, entity, id string) error {
	e, err := s.resolve(ctx, p, bankID, entity, rolename.Delete)
	if err != nil {
		return err
	}
	return s.API.Records.Delete(ctx, e.Schema, "", id, false, nil)
}
