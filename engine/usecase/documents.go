package usecase

import (
	"context"
	"net/http"
	"slices"
	"strconv"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/access"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/authz"
	"github.com/dynapi/dynapi/engine/endpoints"
)

// CreateDocument serves a new document on behalf of who. In one
// transaction it stores the document, creates its dynamic roles, grants
// them to who (at the document's bank for a bank-level document) and
// records "dynamic_endpoint.create"; its routes answer once that has
// committed. A document naming roles that do not exist is refused before
// anything is stored.
func (u *Cases) CreateDocument(ctx context.Context, who audit.Actor, in endpoints.CreateInput) (*endpoints.Endpoint, error) {
	return u.createDocument(ctx, who, in, nil)
}

// createDocument is CreateDocument with also run in the same transaction,
// before anything else is written; an error from it refuses the whole.
func (u *Cases) createDocument(ctx context.Context, who audit.Actor, in endpoints.CreateInput, also func(*access.Tx) error) (*endpoints.Endpoint, error) {
	in.Check = u.checkRoles
	in.Commit = func(ep *endpoints.Endpoint, write func(engine.Tx) error, serve func()) error {
		return u.update(ctx, func(tx *access.Tx) error {
			tx.OnCommit(serve)
			if also != nil {
				if err := also(tx); err != nil {
					return err
				}
			}
			if err := write(tx); err != nil {
				return err
			}
			roles := ep.Roles()
			if err := tx.AddDynamicRoles(system(who), ep.ID, roles); err != nil {
				return err
			}
			if err := tx.GrantRoles(system(who), who.UserID, ep.BankID, roles); err != nil {
				return err
			}
			u.announce(tx, engine.ChangeDocument, "create", ep.ID, ep.BankID)
			return tx.Audit(who, "dynamic_endpoint.create", ep.ID, ep.BankID,
				map[string]any{"title": ep.Doc.Title, "mount": ep.Mount, "operations": len(ep.Doc.Operations)})
		})
	}
	return u.Endpoints.Create(ctx, in)
}

// ReplaceDocument serves a new version of document id (of in.BankID, ""
// for system level) in place of the current one, on behalf of who, in one
// transaction: operations both versions have keep their roles and every
// entitlement to them; operations the new version drops lose their roles,
// with every entitlement to them; the roles of new operations are created
// and granted to who. It records "dynamic_endpoint.replace". The old
// version answers until the new one has committed.
func (u *Cases) ReplaceDocument(ctx context.Context, who audit.Actor, id string, in endpoints.CreateInput) (*endpoints.Endpoint, error) {
	prev, err := u.Endpoints.Get(in.BankID, id)
	if err != nil {
		return nil, err
	}
	had := roleNames(prev.Roles())
	in.Check = u.checkRoles
	in.Commit = func(ep *endpoints.Endpoint, write func(engine.Tx) error, serve func()) error {
		return u.update(ctx, func(tx *access.Tx) error {
			if err := write(tx); err != nil {
				return err
			}
			tx.OnCommit(serve) // between the new roles' grants and the old roles' removal
			roles := ep.Roles()
			removed, err := tx.SetDynamicRoles(system(who), ep.ID, roles)
			if err != nil {
				return err
			}
			added := slices.DeleteFunc(slices.Clone(roles), func(r authz.Role) bool { return slices.Contains(had, r.Name) })
			if err := tx.GrantRoles(system(who), who.UserID, ep.BankID, added); err != nil {
				return err
			}
			u.announce(tx, engine.ChangeDocument, "replace", ep.ID, ep.BankID)
			return tx.Audit(who, "dynamic_endpoint.replace", ep.ID, ep.BankID,
				map[string]any{"title": ep.Doc.Title, "mount": ep.Mount, "operations": len(ep.Doc.Operations),
					"roles_added": roleNames(added), "roles_removed": removed})
		})
	}
	return u.Endpoints.Replace(ctx, id, in)
}

// DeleteDocument stops serving document id of bankID ("" for system
// level) on behalf of who: in one transaction it forgets the document,
// removes its roles with every entitlement to them and records
// "dynamic_endpoint.delete".
func (u *Cases) DeleteDocument(ctx context.Context, who audit.Actor, bankID, id string) error {
	return u.Endpoints.Delete(ctx, bankID, id, func(ep *endpoints.Endpoint, write func(engine.Tx) error, serve func()) error {
		return u.update(ctx, func(tx *access.Tx) error {
			if err := write(tx); err != nil {
				return err
			}
			tx.OnCommit(serve) // its routes go before its roles do
			removed, err := tx.RemoveDynamicRoles(system(who), ep.ID)
			if err != nil {
				return err
			}
			u.announce(tx, engine.ChangeDocument, "delete", ep.ID, ep.BankID)
			return tx.Audit(who, "dynamic_endpoint.delete", ep.ID, ep.BankID, map[string]any{"roles_removed": removed})
		})
	})
}

// SetDocumentHost changes the host answering document id's operations on
// behalf of who, recording "dynamic_endpoint.set_host" in the same
// transaction.
func (u *Cases) SetDocumentHost(ctx context.Context, who audit.Actor, bankID, id, host string) (*endpoints.Endpoint, error) {
	return u.Endpoints.SetHost(ctx, bankID, id, host, audited(ctx, u, who, engine.ChangeDocument, "set_host",
		func(ep *endpoints.Endpoint) (string, string, map[string]any) {
			return ep.ID, ep.BankID, map[string]any{"host": ep.Host}
		}))
}

// checkRoles refuses a document naming roles that do not exist, before
// anything is stored.
func (u *Cases) checkRoles(ep *endpoints.Endpoint) error {
	var faults []engine.Violation
	for _, op := range ep.Doc.Operations {
		for _, name := range op.Access.Roles {
			if _, ok := u.Access.Authz.Role(name); !ok {
				faults = append(faults, engine.Violation{Location: "document", Pointer: op.Pointer + "/x-dynapi-roles",
					Code: "unknown_role", Message: "role " + strconv.Quote(name) + " does not exist"})
			}
		}
	}
	if len(faults) > 0 {
		return engine.NewError(http.StatusBadRequest, engine.CodeInvalidDocument, "the document names roles that do not exist", faults...)
	}
	return nil
}

// roleNames lists the names of roles.
func roleNames(roles []authz.Role) []string {
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = r.Name
	}
	return names
}
