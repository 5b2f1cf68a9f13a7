package usecase

import (
	"context"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/access"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/connector"
	"github.com/dynapi/dynapi/engine/endpointmap"
)

// audited is a Commit that stores a change together with its audit entry
// (kind.action by who on what describe says of the changed value), serves
// it once committed and announces it.
func audited[T any](ctx context.Context, u *Cases, who audit.Actor, kind, action string,
	describe func(T) (target, bankID string, details map[string]any)) engine.Commit[T] {
	return func(v T, write func(engine.Tx) error, serve func()) error {
		return u.update(ctx, func(tx *access.Tx) error {
			if err := write(tx); err != nil {
				return err
			}
			target, bankID, details := describe(v)
			tx.OnCommit(serve)
			u.announce(tx, kind, action, target, bankID)
			return tx.Audit(who, kind+"."+action, target, bankID, details)
		})
	}
}

// scriptAudit describes a connector method in the audit log.
func scriptAudit(s *connector.MethodScript) (string, string, map[string]any) {
	return s.ID, "", map[string]any{"method_name": s.MethodName}
}

// routingAudit describes a method routing in the audit log.
func routingAudit(r *connector.Routing) (string, string, map[string]any) {
	return r.ID, "", map[string]any{"method_name": r.MethodName, "connector_name": r.ConnectorName}
}

// mappingAudit describes an endpoint mapping in the audit log.
func mappingAudit(m *endpointmap.Mapping) (string, string, map[string]any) {
	return m.ID, m.BankID, map[string]any{"operation_id": m.OperationID}
}

// CreateScript stores and applies a new connector method on behalf of
// who, with its "connector_method.create" audit entry in the same
// transaction.
func (u *Cases) CreateScript(ctx context.Context, who audit.Actor, in connector.MethodScript) (*connector.MethodScript, error) {
	return u.Methods.CreateScript(ctx, in, audited(ctx, u, who, engine.ChangeScript, "create", scriptAudit))
}

// UpdateScript replaces connector method id on behalf of who, with its
// "connector_method.update" audit entry in the same transaction.
func (u *Cases) UpdateScript(ctx context.Context, who audit.Actor, id string, in connector.MethodScript) (*connector.MethodScript, error) {
	return u.Methods.UpdateScript(ctx, id, in, audited(ctx, u, who, engine.ChangeScript, "update", scriptAudit))
}

// DeleteScript removes connector method id on behalf of who, with its
// "connector_method.delete" audit entry in the same transaction.
func (u *Cases) DeleteScript(ctx context.Context, who audit.Actor, id string) error {
	return u.Methods.DeleteScript(ctx, id, audited(ctx, u, who, engine.ChangeScript, "delete", scriptAudit))
}

// CreateRouting stores and applies a new method routing on behalf of who,
// with its "method_routing.create" audit entry in the same transaction.
func (u *Cases) CreateRouting(ctx context.Context, who audit.Actor, in connector.Routing) (*connector.Routing, error) {
	return u.Methods.CreateRouting(ctx, in, audited(ctx, u, who, engine.ChangeRouting, "create", routingAudit))
}

// UpdateRouting replaces method routing id on behalf of who, with its
// "method_routing.update" audit entry in the same transaction.
func (u *Cases) UpdateRouting(ctx context.Context, who audit.Actor, id string, in connector.Routing) (*connector.Routing, error) {
	return u.Methods.UpdateRouting(ctx, id, in, audited(ctx, u, who, engine.ChangeRouting, "update", routingAudit))
}

// DeleteRouting removes method routing id on behalf of who, with its
// "method_routing.delete" audit entry in the same transaction.
func (u *Cases) DeleteRouting(ctx context.Context, who audit.Actor, id string) error {
	return u.Methods.DeleteRouting(ctx, id, audited(ctx, u, who, engine.ChangeRouting, "delete", routingAudit))
}

// CreateMapping stores an endpoint mapping of bankID ("" system level) on
// behalf of who, with its "endpoint_mapping.create" audit entry in the
// same transaction.
func (u *Cases) CreateMapping(ctx context.Context, who audit.Actor, bankID string, in endpointmap.NewMapping) (*endpointmap.Mapping, error) {
	return u.Mappings.Create(ctx, bankID, in, audited(ctx, u, who, engine.ChangeMapping, "create", mappingAudit))
}

// DeleteMapping removes endpoint mapping id of bankID on behalf of who,
// with its "endpoint_mapping.delete" audit entry in the same transaction.
func (u *Cases) DeleteMapping(ctx context.Context, who audit.Actor, bankID, id string) error {
	return u.Mappings.Delete(ctx, bankID, id, audited(ctx, u, who, engine.ChangeMapping, "delete", mappingAudit))
}
