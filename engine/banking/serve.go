package banking

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/connector"
	"github.com/dynapi/dynapi/engine/endpoints"
	"github.com/dynapi/dynapi/engine/guard"
	"github.com/dynapi/dynapi/engine/identity"
)

// HeaderIdempotencyKey makes a payment safe to retry: a repeat with the
// same key and body answers the first payment again.
const HeaderIdempotencyKey = "Idempotency-Key"

// Builtin returns the banking core as a built-in document of the endpoint
// manager: each operation is answered by its connector method through
// methods, with the holder rule as a policy (an account in the path) or a
// response filter (a list of accounts), checked with gate.
func Builtin(methods *connector.Dispatcher, gate *guard.Gate) *endpoints.Builtin {
	b := &endpoints.Builtin{Name: "banking core", Doc: Document()}
	declared := map[string]*connector.Method{}
	for _, m := range Methods() {
		declared[m.Name] = m
	}
	for _, rt := range routes() {
		inv := &invoker{rt: rt, methods: methods, gate: gate, result: results[rt.method]}
		for _, a := range declared[rt.method].Args {
			inv.args = append(inv.args, argument(rt, a.Name))
		}
		served := &endpoints.Route{Invoker: inv, Rule: rt.rule, BankParam: rt.bankParam}
		switch {
		case rt.holder && rt.method == GetAccount:
			// The answer is the account: checked as it is, not read twice.
			served.Hooks.Filters = []engine.ResponseFilter{&heldAccount{rt: rt, gate: gate}}
		case rt.holder && rt.accountParam > 0:
			served.Hooks.Policies = []engine.Policy{&holdsAccount{rt: rt, methods: methods, gate: gate}}
		case rt.holder:
			served.Hooks.Filters = []engine.ResponseFilter{&heldAccounts{rt: rt, gate: gate}}
		}
		b.Routes = append(b.Routes, served)
	}
	return b
}

// results convert each method's data to its Go type, so data that does not
// fit is a 502 before anything is answered.
var results = map[string]func(*connector.Result) (any, error){
	GetBanks:                 resultOf[[]Bank],
	GetBank:                  resultOf[Bank],
	GetAccounts:              resultOf[[]Account],
	GetAccount:               resultOf[Account],
	CreateBankAccount:        resultOf[Account],
	GetTransactions:          resultOf[[]Transaction],
	GetCounterparties:        resultOf[[]Counterparty],
	GetCounterparty:          resultOf[Counterparty],
	CreateCounterparty:       resultOf[Counterparty],
	CreateTransactionRequest: resultOf[TransactionRequest],
	GetShareableAccounts:     resultOf[[]Account],
	GetPayableAccounts:       resultOf[[]Account],
}

func resultOf[T any](res *connector.Result) (any, error) { return resultAs[T](res) }

// resultAs converts a connector method's result to T.
func resultAs[T any](res *connector.Result) (T, error) {
	if res.JSON != nil {
		return As[T](json.RawMessage(res.JSON))
	}
	return As[T](res.Data)
}

// argFunc makes one argument of a method call from a validated call.
type argFunc func(ctx context.Context, iv *invoker, call *engine.Call) (any, error)

// argument makes the method argument named name from the route's request:
// ids from the path, the caller, the idempotency key header, the
// transaction query or the body, as the Go value the method declares, so
// scripts and back ends see the shapes they always saw. Path values are
// copied: the method may keep them.
func argument(rt *route, name string) argFunc {
	path := func(param string) argFunc {
		i := slices.Index(pathParams(rt.op.Path), param)
		if i < 0 {
			panic("banking: " + rt.op.ID + " has no path parameter " + param + " for argument " + name)
		}
		return func(_ context.Context, _ *invoker, call *engine.Call) (any, error) {
			return strings.Clone(call.Path.Value(i)), nil
		}
	}
	switch name {
	case "bankId":
		return path("bank_id")
	case "accountId":
		return path("account_id")
	case "counterpartyId":
		return path("counterparty_id")
	case "userId":
		return func(ctx context.Context, iv *invoker, call *engine.Call) (any, error) {
			if iv.rt.readsAll(ctx, iv.gate, call.Principal, call.BankID) {
				return "", nil
			}
			return call.Principal.UserID, nil
		}
	case "idempotencyKey":
		return func(_ context.Context, _ *invoker, call *engine.Call) (any, error) {
			key, _ := call.HTTP.Header(HeaderIdempotencyKey)
			return strings.Clone(key), nil
		}
	case "query":
		return func(_ context.Context, _ *invoker, call *engine.Call) (any, error) {
			return transactionQuery(call.HTTP.RawQuery()), nil
		}
	case "account":
		return bodyAs[Account]
	case "counterparty":
		return bodyAs[Counterparty]
	case "body":
		return bodyAs[TransactionRequestBody]
	}
	panic("banking: no request value makes argument " + name + " of " + rt.method)
}

// bodyAs is the validated body as a T.
func bodyAs[T any](_ context.Context, _ *invoker, call *engine.Call) (any, error) {
	return Arg[T]([]any{call.Body}, 0)
}

// transactionQuery reads the transaction query from a query string the
// core document's parameters validated: dates are RFC 3339 date-times or
// dates (midnight UTC), limit and offset whole numbers.
func transactionQuery(raw string) TransactionQuery {
	var q TransactionQuery
	for raw != "" {
		var pair, name, value string
		pair, raw, _ = strings.Cut(raw, "&")
		name, value, _ = strings.Cut(pair, "=")
		if v, err := url.QueryUnescape(value); err == nil {
			value = v
		}
		switch name {
		case "from_date":
			q.FromDate = queryTime(value)
		case "to_date":
			q.ToDate = queryTime(value)
		case "limit":
			q.Limit, _ = strconv.Atoi(value)
		case "offset":
			q.Offset, _ = strconv.Atoi(value)
		}
	}
	return q
}

// queryTime is a validated date-time or date; nil when empty.
func queryTime(v string) *time.Time {
	if v == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		t, _ = time.Parse(time.DateOnly, v)
	}
	return &t
}

// invoker answers one route of the core through its connector method.
type invoker struct {
	rt      *route
	methods *connector.Dispatcher
	gate    *guard.Gate
	args    []argFunc
	result  func(*connector.Result) (any, error)
}

// Invoke calls the route's method with the arguments the request makes and
// answers its data as JSON: with the route's status, under the route's
// list key when it answers a list.
func (iv *invoker) Invoke(ctx context.Context, call *engine.Call) (*engine.Reply, error) {
	args := make([]any, len(iv.args))
	for i, arg := range iv.args {
		var err error
		if args[i], err = arg(ctx, iv, call); err != nil {
			return nil, err
		}
	}
	res, err := iv.methods.Call(ctx, call, iv.rt.method, call.BankID, args...)
	if err != nil {
		return nil, err
	}
	data, err := iv.result(res)
	if err != nil {
		return nil, err
	}
	if iv.rt.listKey != "" {
		data = map[string]any{iv.rt.listKey: nonNilList(data)}
	}
	body, err := json.Marshal(data)
	if err != nil {
		return nil, engine.Internal(err)
	}
	return &engine.Reply{Status: iv.rt.status, ContentType: "application/json", Body: body}, nil
}

// nonNilList is a nil list as an empty one, so it is answered as [].
func nonNilList(data any) any {
	switch v := data.(type) {
	case []Bank:
		return nonNil(v)
	case []Account:
		return nonNil(v)
	case []Transaction:
		return nonNil(v)
	case []Counterparty:
		return nonNil(v)
	}
	return data
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// holdsAccount is the holder rule of a route about the account in its
// path, a policy: the caller must hold the account or have one of the
// rule's roles. A missing account is the method's 404.
type holdsAccount struct {
	rt      *route
	methods *connector.Dispatcher
	gate    *guard.Gate
}

// Allow reads the path's account through getAccount and checks the caller
// may use it.
func (h *holdsAccount) Allow(ctx context.Context, call *engine.Call) error {
	read := *call
	read.OperationID = GetAccount
	accountID := strings.Clone(call.Path.Value(h.rt.accountParam - 1))
	res, err := h.methods.Call(ctx, &read, GetAccount, call.BankID, strings.Clone(call.BankID), accountID)
	if err != nil {
		return err
	}
	acc, err := resultAs[Account](res)
	if err != nil {
		return err
	}
	return h.rt.holds(ctx, h.gate, call.Principal, call.BankID, &acc)
}

// heldAccounts is the holder rule of a route answering a list of accounts,
// a response filter: a back end or script may answer more than asked, so a
// caller without one of the rule's roles is shown only the accounts they
// hold.
type heldAccounts struct {
	rt   *route
	gate *guard.Gate
}

// Filter drops the accounts the caller does not hold from the reply. Only
// the holders are read to check; the accounts are decoded in full only
// when some must go.
func (f *heldAccounts) Filter(ctx context.Context, call *engine.Call, reply *engine.Reply) (*engine.Reply, error) {
	if f.rt.readsAll(ctx, f.gate, call.Principal, call.BankID) {
		return reply, nil
	}
	if call.Principal.Delegation == nil {
		var list map[string][]holders
		if err := json.Unmarshal(reply.Body, &list); err != nil {
			return nil, engine.Internal(err)
		}
		if !slices.ContainsFunc(list[f.rt.listKey], func(h holders) bool { return !h.include(call.Principal.UserID) }) {
			return reply, nil
		}
	}
	var page map[string][]Account
	if err := json.Unmarshal(reply.Body, &page); err != nil {
		return nil, engine.Internal(err)
	}
	body, err := json.Marshal(map[string][]Account{f.rt.listKey: heldOnly(page[f.rt.listKey], call.Principal)})
	if err != nil {
		return nil, engine.Internal(err)
	}
	return &engine.Reply{Status: reply.Status, ContentType: reply.ContentType, Body: body}, nil
}

// heldAccount is the holder rule of the route answering one account, a
// response filter: the account answered must be the caller's, unless the
// caller has one of the rule's roles.
type heldAccount struct {
	rt   *route
	gate *guard.Gate
}

// Filter checks the caller may see the account the reply holds.
func (f *heldAccount) Filter(ctx context.Context, call *engine.Call, reply *engine.Reply) (*engine.Reply, error) {
	if call.Principal.Delegation != nil {
		return delegatedAccount(call.Principal, reply)
	}
	var h holders
	if err := json.Unmarshal(reply.Body, &h); err != nil {
		return nil, engine.Internal(err)
	}
	if h.include(call.Principal.UserID) {
		return reply, nil
	}
	if f.rt.others == nil {
		return nil, notHolder()
	}
	if err := f.gate.Authorize(ctx, call.Principal, f.rt.others, call.BankID); err != nil {
		return nil, err
	}
	return reply, nil
}

// holders are an account's holders, all the holder rule reads of it.
type holders struct {
	Owners []struct {
		UserID string `json:"user_id"`
	} `json:"owners"`
}

func (h holders) include(userID string) bool {
	for _, o := range h.Owners {
		if o.UserID == userID {
			return true
		}
	}
	return false
}

func notHolder() *engine.Error {
	return engine.NewError(http.StatusForbidden, engine.CodeForbidden, "only the account's holder may use this route")
}

func (acc *Account) heldBy(userID string) bool {
	return slices.ContainsFunc(acc.Owners, func(o Owner) bool { return o.UserID == userID })
}

// heldOnly keeps the accounts p may use as a holder (reachable).
func heldOnly(accounts []Account, p *engine.Principal) []Account {
	return slices.DeleteFunc(accounts, func(acc Account) bool { return !acc.reachable(p) })
}

// readsAll tells whether p may reach every account at bankID through rt:
// has one of the holder rule's roles.
func (rt *route) readsAll(ctx context.Context, gate *guard.Gate, p *identity.Principal, bankID string) bool {
	return p.Delegation == nil && rt.others != nil && gate.Authorize(ctx, p, rt.others, bankID) == nil
}

// holds checks p may use acc through rt: holds it, or has one of the
// holder rule's roles at bankID.
func (rt *route) holds(ctx context.Context, gate *guard.Gate, p *identity.Principal, bankID string, acc *Account) error {
	if p.Delegation != nil {
		if refusal := acc.reaches(p); refusal != nil {
			return refusal
		}
		return nil
	}
	if acc.heldBy(p.UserID) {
		return nil
	}
	if rt.others == nil {
		return notHolder()
	}
	return gate.Authorize(ctx, p, rt.others, bankID)
}
