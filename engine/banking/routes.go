package banking

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/access"
	"github.com/dynapi/dynapi/engine/connector"
	"github.com/dynapi/dynapi/engine/guard"
	"github.com/dynapi/dynapi/engine/jsonschemas"
	"github.com/dynapi/dynapi/engine/server"
	"github.com/dynapi/dynapi/engine/strictjson"
)

// Roles of the banking core.
const (
	// RoleCanCreateAccount opens accounts at a bank.
	RoleCanCreateAccount = "CanCreateAccount"
	// RoleCanGetAccountsHeldAtOneBank reads every account (and its
	// transactions and payees) at a bank, not only the caller's.
	RoleCanGetAccountsHeldAtOneBank = "CanGetAccountsHeldAtOneBank"
	// RoleCanGetAccountsHeldAtAnyBank is the same at every bank.
	RoleCanGetAccountsHeldAtAnyBank = "CanGetAccountsHeldAtAnyBank"
	// RoleCanCreateAnyTransactionRequest pays from any account at a bank.
	RoleCanCreateAnyTransactionRequest = "CanCreateAnyTransactionRequest"
)

// Roles returns the roles the banking core checks.
func Roles() []access.Role {
	return []access.Role{
		{Name: RoleCanCreateAccount, RequiresBankID: true},
		{Name: RoleCanGetAccountsHeldAtOneBank, RequiresBankID: true},
		{Name: RoleCanGetAccountsHeldAtAnyBank},
		{Name: RoleCanCreateAnyTransactionRequest, RequiresBankID: true},
	}
}

// API serves the banking core's routes, each through one connector method.
type API struct {
	Methods *connector.Dispatcher
	Gate    *guard.Gate
}

// Register mounts the banking core's routes, as Routes lists them.
func Register(app *fiber.App, a *API) {
	for _, rt := range Routes() {
		if rt.Body != nil {
			rt.body = compileBody(rt.Body)
		}
		switch rt.Method {
		case http.MethodGet:
			app.Get(fiberPath(rt.Path), a.handle(&rt))
		case http.MethodPost:
			app.Post(fiberPath(rt.Path), a.handle(&rt))
		default:
			panic("banking: no way to mount " + rt.Method + " " + rt.Path)
		}
	}
}

// request is one call to a banking route, authenticated.
type request struct {
	c      *fiber.Ctx
	ctx    context.Context
	call   *engine.Call
	bankID string
	a      *API
	route  *Route
}

// handle authenticates the caller and checks rt's rule (at the URL's bank
// when the route is at one, which must then exist), then runs rt's handler.
func (a *API) handle(rt *Route) fiber.Handler {
	return func(c *fiber.Ctx) error {
		bankID := ""
		if rt.atBank {
			bankID = strings.Clone(c.Params("bank_id"))
		}
		p, err := a.Gate.Check(c.UserContext(), server.Credentials(c), rt.gate, bankID)
		if err != nil {
			return err
		}
		call := &engine.Call{BankID: bankID, Principal: p, HTTP: server.HTTPRequest(c),
			CorrelationID: string(c.Response().Header.Peek(server.HeaderCorrelationID))}
		return rt.serve(a, &request{c: c, ctx: c.UserContext(), call: call, bankID: bankID, a: a, route: rt})
	}
}

// invoke calls method name and converts its data to T.
func invoke[T any](r *request, name string, args ...any) (T, error) {
	r.call.OperationID = name
	res, err := r.a.Methods.Call(r.ctx, r.call, name, r.bankID, args...)
	if err != nil {
		var zero T
		return zero, err
	}
	return resultAs[T](res)
}

// resultAs converts a connector method's result to T.
func resultAs[T any](res *connector.Result) (T, error) {
	if res.JSON != nil {
		return As[T](json.RawMessage(res.JSON))
	}
	return As[T](res.Data)
}

// reply writes v as JSON with status.
func reply(c *fiber.Ctx, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return engine.Internal(err)
	}
	c.Status(status)
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(body)
}

// answer writes v as the route's successful answer: with the route's
// status, wrapped in {ListKey: v} when the route answers a list.
func (r *request) answer(v any) error {
	if r.route.ListKey != "" {
		v = map[string]any{r.route.ListKey: v}
	}
	return reply(r.c, r.route.Status, v)
}

func (r *request) param(name string) string { return strings.Clone(r.c.Params(name)) }

func (a *API) getBanks(r *request) error {
	banks, err := invoke[[]Bank](r, GetBanks)
	if err != nil {
		return err
	}
	return r.answer(nonNil(banks))
}

func (a *API) getBank(r *request) error {
	bank, err := invoke[Bank](r, GetBank, r.bankID)
	if err != nil {
		return err
	}
	return r.answer(bank)
}

func (a *API) getAccounts(r *request) error {
	userID := r.call.Principal.UserID
	if r.route.readsAll(r.ctx, r.a.Gate, r.call.Principal, r.bankID) {
		userID = ""
	}
	accounts, err := invoke[[]Account](r, GetAccounts, r.bankID, userID)
	if err != nil {
		return err
	}
	if userID != "" {
		// A back end or script may answer more than asked: show only what
		// the caller holds.
		accounts = heldOnly(accounts, userID)
	}
	return r.answer(nonNil(accounts))
}

func (acc *Account) heldBy(userID string) bool {
	return slices.ContainsFunc(acc.Owners, func(o Owner) bool { return o.UserID == userID })
}

// heldOnly keeps the accounts userID holds.
func heldOnly(accounts []Account, userID string) []Account {
	return slices.DeleteFunc(accounts, func(acc Account) bool { return !acc.heldBy(userID) })
}

// readsAll tells whether p may reach every account at bankID through rt:
// has one of its HolderOrRoles.
func (rt *Route) readsAll(ctx context.Context, gate *guard.Gate, p *access.Principal, bankID string) bool {
	return rt.others != nil && gate.Authorize(ctx, p, rt.others, bankID) == nil
}

// holds checks p may use acc through rt: holds it, or has one of rt's
// HolderOrRoles at bankID.
func (rt *Route) holds(ctx context.Context, gate *guard.Gate, p *access.Principal, bankID string, acc *Account) error {
	if acc.heldBy(p.UserID) {
		return nil
	}
	if rt.others == nil {
		return engine.NewError(http.StatusForbidden, engine.CodeForbidden, "only the account's holder may use this route")
	}
	return gate.Authorize(ctx, p, rt.others, bankID)
}

// account reads the URL's account and checks the caller may use it.
func (r *request) account() (Account, error) {
	acc, err := invoke[Account](r, GetAccount, r.bankID, r.param("account_id"))
	if err != nil {
		return acc, err
	}
	return acc, r.route.holds(r.ctx, r.a.Gate, r.call.Principal, r.bankID, &acc)
}

func (a *API) getAccount(r *request) error {
	acc, err := r.account()
	if err != nil {
		return err
	}
	return r.answer(acc)
}

func (a *API) createAccount(r *request) error {
	var in Account
	if err := r.decodeBody(&in); err != nil {
		return err
	}
	acc, err := invoke[Account](r, CreateBankAccount, r.bankID, in)
	if err != nil {
		return err
	}
	return r.answer(acc)
}

func (a *API) getTransactions(r *request) error {
	q, err := transactionQuery(r.c)
	if err != nil {
		return err
	}
	acc, err := r.account()
	if err != nil {
		return err
	}
	txs, err := invoke[[]Transaction](r, GetTransactions, r.bankID, acc.AccountID, q)
	if err != nil {
		return err
	}
	return r.answer(nonNil(txs))
}

// transactionQuery reads from_date, to_date (RFC 3339 or YYYY-MM-DD),
// limit and offset.
func transactionQuery(c *fiber.Ctx) (TransactionQuery, error) {
	var q TransactionQuery
	var faults []engine.Violation
	for _, d := range []struct {
		name string
		dst  **time.Time
	}{{"from_date", &q.FromDate}, {"to_date", &q.ToDate}} {
		v := c.Query(d.name)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			t, err = time.Parse(time.DateOnly, v)
		}
		if err != nil {
			faults = append(faults, engine.Violation{Location: "query", Pointer: "/" + d.name, Code: "format",
				Message: "a date-time (RFC 3339) or a date (YYYY-MM-DD)"})
			continue
		}
		*d.dst = &t
	}
	for _, n := range []struct {
		name string
		dst  *int
	}{{"limit", &q.Limit}, {"offset", &q.Offset}} {
		v := c.Query(n.name)
		if v == "" {
			continue
		}
		i, err := strconv.Atoi(v)
		if err != nil || i < 0 {
			faults = append(faults, engine.Violation{Location: "query", Pointer: "/" + n.name, Code: "type",
				Message: "a whole number, 0 or more"})
			continue
		}
		*n.dst = i
	}
	if faults != nil {
		return q, engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed, "the query is not valid", faults...)
	}
	return q, nil
}

func (a *API) getCounterparties(r *request) error {
	acc, err := r.account()
	if err != nil {
		return err
	}
	cps, err := invoke[[]Counterparty](r, GetCounterparties, r.bankID, acc.AccountID)
	if err != nil {
		return err
	}
	return r.answer(nonNil(cps))
}

func (a *API) getCounterparty(r *request) error {
	acc, err := r.account()
	if err != nil {
		return err
	}
	cp, err := invoke[Counterparty](r, GetCounterparty, r.bankID, acc.AccountID, r.param("counterparty_id"))
	if err != nil {
		return err
	}
	return r.answer(cp)
}

func (a *API) createCounterparty(r *request) error {
	var in Counterparty
	if err := r.decodeBody(&in); err != nil {
		return err
	}
	acc, err := r.account()
	if err != nil {
		return err
	}
	cp, err := invoke[Counterparty](r, CreateCounterparty, r.bankID, acc.AccountID, in)
	if err != nil {
		return err
	}
	return r.answer(cp)
}

// HeaderIdempotencyKey makes a payment safe to retry: a repeat with the
// same key and body answers the first payment again.
const HeaderIdempotencyKey = "Idempotency-Key"

func (a *API) createTransactionRequest(r *request) error {
	var in TransactionRequestBody
	if err := r.decodeBody(&in); err != nil {
		return err
	}
	acc, err := r.account()
	if err != nil {
		return err
	}
	key := strings.Clone(r.c.Get(HeaderIdempotencyKey))
	tr, err := invoke[TransactionRequest](r, CreateTransactionRequest, r.bankID, acc.AccountID, key, in)
	if err != nil {
		return err
	}
	return r.answer(tr)
}

// userAccounts answers the caller's accounts through the route's method.
func (a *API) userAccounts(r *request) error {
	accounts, err := invoke[[]Account](r, r.route.Operation, r.call.Principal.UserID)
	if err != nil {
		return err
	}
	return r.answer(nonNil(heldOnly(accounts, r.call.Principal.UserID)))
}

// decodeBody reads the route's JSON body into v: decoded strictly (no
// duplicate keys, UTF-8 only, numbers the validator can compare), checked
// against the schema /openapi.json publishes for it (member names exact,
// unknown members refused), then decoded into v.
func (r *request) decodeBody(v any) error {
	body := r.c.Body()
	value, err := strictjson.Decode(body)
	if err == nil {
		err = r.route.body.Validate(value)
	}
	var pe *jsonschemas.PanicError
	switch {
	case errors.As(err, &pe):
		return engine.Internal(err)
	case err != nil:
		return engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed, "the body does not match this route's schema",
			jsonschemas.Violations(err, "body", "", jsonschemas.Words{})...)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return engine.NewError(http.StatusBadRequest, engine.CodeBadRequest, "the body is not valid JSON for this route",
			engine.Violation{Location: "body", Pointer: "", Code: "invalid", Message: err.Error()})
	}
	return nil
}

// compileBody compiles the schema of bodies of type t. The schemas are
// made from the banking core's own types, so failing to compile one is a
// bug of the build, not of any input.
func compileBody(t reflect.Type) *jsonschemas.Schema {
	c := jsonschemas.NewCompiler("banking body schemas are self-contained")
	url := "https://dynapi.invalid/banking/" + t.Name() + ".json"
	if err := c.AddResource(url, bodySchema(t)); err != nil {
		panic("banking: body schema of " + t.Name() + ": " + err.Error())
	}
	s, err := c.Compile(url)
	if err != nil {
		panic("banking: body schema of " + t.Name() + ": " + err.Error())
	}
	return jsonschemas.NewSchema(s)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
