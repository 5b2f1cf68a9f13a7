package usecase

import (
	"context"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/access"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/dynentity"
)

// CreateEntity stores and serves a new entity definition on behalf of who.
// In one transaction it stores the definition, creates the entity's four
// roles, grants them to who (at the entity's bank for a bank-level entity)
// and records "dynamic_entity.create"; its record API answers once that
// has committed.
func (u *Cases) CreateEntity(ctx context.Context, who audit.Actor, in dynentity.NewEntity) (*dynentity.Entity, error) {
	in.CreatedBy = who.UserID
	in.Commit = func(e *dynentity.Entity, write func(engine.Tx) error, serve func()) error {
		return u.update(ctx, func(tx *access.Tx) error {
			if err := write(tx); err != nil {
				return err
			}
			tx.OnCommit(serve) // once its roles are granted
			roles := dynentity.Roles(e)
			if err := tx.AddDynamicRoles(system(who), dynentity.RoleOwner(e), roles); err != nil {
				return err
			}
			if err := tx.GrantRoles(system(who), who.UserID, e.BankID, roles); err != nil {
				return err
			}
			u.announce(tx, engine.ChangeEntity, "create", e.ID, e.BankID)
			return tx.Audit(who, "dynamic_entity.create", e.ID, e.BankID, map[string]any{"entity": e.Def.Name})
		})
	}
	return u.Entities.Create(ctx, in)
}

// EntityUpdate is a new version of an entity definition.
type EntityUpdate struct {
	BankID, ID string
	Definition []byte
	// Migrate applies Defaults to the records that lack a field the new
	// definition requires (see dynentity.Registry.Update).
	Migrate  bool
	Defaults map[string]any
}

// UpdateEntity replaces an entity definition on behalf of who: in one
// transaction it checks the entity's records against the new definition,
// migrates or reindexes them as it needs, stores it and records
// "dynamic_entity.update". A refusal or a failed commit leaves the records
// and the definition as they were.
func (u *Cases) UpdateEntity(ctx context.Context, who audit.Actor, in EntityUpdate) (*dynentity.Entity, error) {
	return u.Entities.Update(ctx, in.BankID, in.ID, in.Definition, in.Migrate, in.Defaults,
		audited(ctx, u, who, engine.ChangeEntity, "update", func(e *dynentity.Entity) (string, string, map[string]any) {
			return e.ID, e.BankID, map[string]any{"entity": e.Def.Name, "migrate": in.Migrate}
		}))
}

// DeleteEntity forgets entity id of bankID ("" for system level) on
// behalf of who: in one transaction it removes the definition and the
// entity's roles with every entitlement to them, and records
// "dynamic_entity.delete". With cascade the entity's records are deleted
// in that same transaction; without, an entity with records is refused.
func (u *Cases) DeleteEntity(ctx context.Context, who audit.Actor, bankID, id string, cascade bool) error {
	_, err := u.Entities.Delete(ctx, bankID, id, cascade, func(e *dynentity.Entity, write func(engine.Tx) error, serve func()) error {
		return u.update(ctx, func(tx *access.Tx) error {
			if err := write(tx); err != nil {
				return err
			}
			tx.OnCommit(serve) // its record API goes before its roles do
			removed, err := tx.RemoveDynamicRoles(system(who), dynentity.RoleOwner(e))
			if err != nil {
				return err
			}
			u.announce(tx, engine.ChangeEntity, "delete", e.ID, e.BankID)
			return tx.Audit(who, "dynamic_entity.delete", e.ID, e.BankID,
				map[string]any{"entity": e.Def.Name, "roles_removed": removed, "cascade": cascade})
		})
	})
	return err
}
