// Package core is the connector that answers the open-banking standards'
// account-information operations from the banking core: a document whose
// host is core (x-dynapi-host: core, or PUT .../dynamic-endpoints/{id}/host)
// has its UK Open Banking (v3.1.7, v4.0) and Berlin Group NextGenPSD2
// 1.3.11 account, balance, transaction and beneficiary reads answered with
// the customer's real accounts, mapped to the standard's schemas. The
// core is reached through the connector dispatcher, so a method routing of
// getAccounts, getTransactions, ... (a REST back end, a script) is
// honoured, and a JavaScript connector method named after an operation
// still takes the operation over. The document's other operations, which
// the core has no data for (direct debits, standing orders, products,
// ...), are answered from the document's examples, as obp_mock would.
package core

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/connector"
	"github.com/dynapi/dynapi/plugins/mock"
	"github.com/dynapi/dynapi/specs"
)

// Name is the connector's name: the host documents name.
const Name = "core"

// Connector is the core connector. Register it under Name; the
// dispatcher opens it, which hands it the Caller it reaches the core by.
type Connector struct {
	maps   Mappings
	now    func() time.Time
	caller connector.Caller
}

var (
	_ connector.OperationConnector = (*Connector)(nil)
	_ connector.Opener             = (*Connector)(nil)
)

// New returns the connector with mappings maps (see LoadMappings and
// ParseMappings) and clock now (time.Now when nil).
func New(maps Mappings, now func() time.Time) *Connector {
	if now == nil {
		now = time.Now
	}
	return &Connector{maps: maps, now: now}
}

// Open implements connector.Opener: it keeps the dispatcher, which calls
// the core's methods.
func (c *Connector) Open(_ context.Context, env connector.Env) error {
	if env.Caller == nil {
		return errors.New("core: no caller to reach the banking core")
	}
	c.caller = env.Caller
	return nil
}

// Prepare refuses the core's own methods: the connector answers the
// standards' operations, which call those methods.
func (c *Connector) Prepare(m *connector.Method, _ connector.Params) (connector.Invoker, error) {
	return nil, engine.Errorf(http.StatusBadRequest, engine.CodeBadRequest,
		"the %s connector answers documents' operations, not method %s", Name, m.Name)
}

// PrepareOperation returns the invoker of op: the core's answer when the
// connector maps op (by operation id, in the standard the document is),
// else the document's examples.
func (c *Connector) PrepareOperation(doc *specs.Document, op *specs.Operation) (connector.Invoker, error) {
	if h, ok := answerOf(doc, op.ID); ok {
		return &invoker{c: c, op: op, answer: h}, nil
	}
	return mock.Prepare(doc, op)
}

// answer builds the data of one operation's answer for a call.
type answer func(ctx context.Context, k *call) (any, error)

// answerOf is the answer of operation id in doc, chosen by the id alone
// (the standards' ids: a proprietary document reusing one is answered in
// that standard's shape): UK ids are shaped by the document's version
// (3.x: v3.1, else v4.0), Berlin Group ids have their own names.
func answerOf(doc *specs.Document, id string) (answer, bool) {
	if h, ok := bgAnswers[id]; ok {
		return h, true
	}
	h, ok := ukAnswers[id]
	if !ok {
		return nil, false
	}
	version := ukV40
	if strings.HasPrefix(doc.Version, "3.") {
		version = ukV31
	}
	return func(ctx context.Context, k *call) (any, error) {
		k.uk = k.c.maps.UK.Versions[version]
		k.v31 = version == ukV31
		return h(ctx, k)
	}, true
}

// invoker answers one operation from the core.
type invoker struct {
	c      *Connector
	op     *specs.Operation
	answer answer
}

// ReadsArgs implements connector.ArgsReader: the connector reads the
// call, not the method's argument.
func (*invoker) ReadsArgs() bool { return false }

// Invoke answers the call with data the dispatcher checks against the
// operation's response schema.
func (inv *invoker) Invoke(ctx context.Context, req *connector.Request) (*connector.Result, error) {
	if inv.c.caller == nil {
		return nil, engine.Internal(errors.New("core: the connector was not opened"))
	}
	k, err := newCall(inv.c, inv.op, req)
	if err != nil {
		return nil, err
	}
	data, err := inv.answer(ctx, k)
	if err != nil {
		return nil, err
	}
	return &connector.Result{Data: data}, nil
}
