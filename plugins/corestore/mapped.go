// Package corestore is the "mapped" connector (OBP's name for it): the banking core's connector
// methods (getBanks, getAccounts, createTransactionRequest, ...) answered
// from the local store.
//
// Banks come from the engine's own bank list (Banks); accounts,
// transactions, counterparties, transaction requests and idempotency
// records live in buckets prefixed "core_", as JSON. A payment is one store
// Update: the funds check, both postings (double entry), both balances, the
// transaction request and its idempotency record commit together or not at
// all, and the store serialises Updates, so concurrent payments never
// overdraw an account. An account's balance always equals the sum of its
// transactions: a non-zero opening balance is posted as an
// "OPENING_BALANCE" transaction.
package corestore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/banking"
	"github.com/dynapi/dynapi/engine/banks"
	"github.com/dynapi/dynapi/engine/connector"
)

// Name is the connector's name in method routings.
const Name = "mapped"

// Stable error codes of the mapped connector, beyond engine's.
const (
	// CodeInsufficientFunds refuses a payment larger than the balance (422).
	CodeInsufficientFunds = "insufficient_funds"
	// CodeIdempotencyKeyReused refuses a payment whose idempotency key was
	// used before with another body (422).
	CodeIdempotencyKeyReused = "idempotency_key_reused"
	// CodeAccountNotActive refuses a payment from or to a closed account
	// (422).
	CodeAccountNotActive = "account_not_active"
	// CodeAmountTooLarge refuses a payment that would take a balance beyond
	// what can be held (422).
	CodeAmountTooLarge = "amount_too_large"
)

// Account statuses.
const (
	// StatusActive accounts pay and are paid.
	StatusActive = "active"
	// StatusClosed accounts neither pay nor are paid.
	StatusClosed = "closed"
)

// Transaction and transaction request types.
const (
	// TypeOpeningBalance is the transaction posting an account's opening
	// balance.
	TypeOpeningBalance = "OPENING_BALANCE"
	// TypeAccount is a payment to an account named in the request.
	TypeAccount = "ACCOUNT"
	// TypeCounterparty is a payment to a saved counterparty.
	TypeCounterparty = "COUNTERPARTY"
	// StatusCompleted is a transaction request whose two sides are posted.
	StatusCompleted = "COMPLETED"
)

// Limits of getTransactions pages.
const (
	// DefaultLimit is the page size when the query gives none.
	DefaultLimit = 50
	// MaxLimit is the largest page a query may ask for.
	MaxLimit = 500
)

// Buckets. Keys join their parts with NUL, which no id may contain.
const (
	bucketAccounts       = "core_accounts"       // bank, account -> banking.Account
	bucketOwners         = "core_account_owners" // user, bank, account -> ""
	bucketTransactions   = "core_transactions"   // bank, account, time, seq -> banking.Transaction
	bucketCounterparties = "core_counterparties" // bank, account, counterparty -> banking.Counterparty
	bucketRequests       = "core_tx_requests"    // bank, account, request -> banking.TransactionRequest
	bucketIdempotency    = "core_idempotency"    // bank, account, key -> idempotencyRecord
	bucketMeta           = "core_meta"           // clock -> last posting time, Unix nanoseconds
	keyClock             = "clock"
)

// Banks reads the banks the engine knows; engine/banks.Service implements
// it.
type Banks interface {
	// List returns every bank.
	List(ctx context.Context) ([]*banks.Bank, error)
	// Get returns the bank with id, or a 404 *engine.Error.
	Get(ctx context.Context, id string) (*banks.Bank, error)
}

// Connector answers the banking core's methods from the local store. It is
// safe for concurrent use.
type Connector struct {
	store engine.Store
	banks Banks
	// now is the clock; tests replace it.
	now func() time.Time
	// log receives what the connector only logs (SCA codes).
	log *slog.Logger
}

var _ connector.Connector = (*Connector)(nil)

// New returns the mapped connector over store, reading banks from banks,
// logging to slog.Default until WithLogger.
func New(store engine.Store, banks Banks) *Connector {
	return &Connector{store: store, banks: banks, now: time.Now, log: slog.Default()}
}

// WithLogger has the connector log to log, and returns it.
func (c *Connector) WithLogger(log *slog.Logger) *Connector {
	if log != nil {
		c.log = log
	}
	return c
}

// methodNames are the methods mapped implements, in message doc order.
var methodNames = []string{
	banking.GetBanks, banking.GetBank, banking.GetAccounts, banking.GetAccount, banking.CreateBankAccount,
	banking.GetTransactions, banking.GetCounterparties, banking.GetCounterparty, banking.CreateCounterparty,
	banking.CreateTransactionRequest, banking.GetShareableAccounts, banking.GetPayableAccounts,
	banking.SendScaChallenge,
}

// Methods lists the method names mapped implements.
func (c *Connector) Methods() []string { return slices.Clone(methodNames) }

// Prepare implements connector.Connector: it returns the invoker of a
// built-in banking method. The mapped connector takes no parameters.
func (c *Connector) Prepare(m *connector.Method, params connector.Params) (connector.Invoker, error) {
	if m == nil {
		return nil, engine.Errorf(http.StatusBadRequest, engine.CodeBadRequest, "the mapped connector needs a method")
	}
	if len(params) > 0 {
		keys := make([]string, 0, len(params))
		for k := range params {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return nil, engine.NewError(http.StatusBadRequest, engine.CodeBadRequest,
			fmt.Sprintf("the mapped connector takes no parameters; got %q", keys[0]),
			engine.Violation{Location: "body", Pointer: "/parameters", Code: "unknown", Message: "unknown parameter " + keys[0]})
	}
	inv := c.invoker(m.Name)
	if inv == nil {
		return nil, engine.NewError(http.StatusBadRequest, engine.CodeBadRequest,
			fmt.Sprintf("the mapped connector does not implement method %s; it implements %s", m.Name, strings.Join(methodNames, ", ")),
			engine.Violation{Location: "body", Pointer: "/method_name", Code: "unsupported", Message: "mapped does not implement " + m.Name})
	}
	return inv, nil
}

// invoker returns the invoker of method name, or nil.
func (c *Connector) invoker(name string) connector.InvokerFunc {
	switch name {
	case banking.GetBanks:
		return func(ctx context.Context, _ *connector.Request) (*connector.Result, error) {
			return result(c.Banks(ctx))
		}
	case banking.GetBank:
		return func(ctx context.Context, req *connector.Request) (*connector.Result, error) {
			bankID, err := banking.Arg[string](req.Args, 0)
			if err != nil {
				return nil, err
			}
			return result(c.Bank(ctx, bankID))
		}
	case banking.GetAccounts:
		return func(ctx context.Context, req *connector.Request) (*connector.Result, error) {
			ids, err := stringArgs(req.Args, 2)
			if err != nil {
				return nil, err
			}
			return result(c.Accounts(ctx, ids[0], ids[1]))
		}
	case banking.GetAccount:
		return func(ctx context.Context, req *connector.Request) (*connector.Result, error) {
			ids, err := stringArgs(req.Args, 2)
			if err != nil {
				return nil, err
			}
			return result(c.Account(ctx, ids[0], ids[1]))
		}
	case banking.CreateBankAccount:
		return func(ctx context.Context, req *connector.Request) (*connector.Result, error) {
			ids, err := stringArgs(req.Args, 1)
			if err != nil {
				return nil, err
			}
			acc, err := banking.Arg[banking.Account](req.Args, 1)
			if err != nil {
				return nil, err
			}
			return result(c.CreateAccount(ctx, ids[0], acc))
		}
	case banking.GetTransactions:
		return func(ctx context.Context, req *connector.Request) (*connector.Result, error) {
			ids, err := stringArgs(req.Args, 2)
			if err != nil {
				return nil, err
			}
			q, err := banking.Arg[banking.TransactionQuery](req.Args, 2)
			if err != nil {
				return nil, err
			}
			return result(c.Transactions(ctx, ids[0], ids[1], q))
		}
	case banking.GetCounterparties:
		return func(ctx context.Context, req *connector.Request) (*connector.Result, error) {
			ids, err := stringArgs(req.Args, 2)
			if err != nil {
				return nil, err
			}
			return result(c.Counterparties(ctx, ids[0], ids[1]))
		}
	case banking.GetCounterparty:
		return func(ctx context.Context, req *connector.Request) (*connector.Result, error) {
			ids, err := stringArgs(req.Args, 3)
			if err != nil {
				return nil, err
			}
			return result(c.Counterparty(ctx, ids[0], ids[1], ids[2]))
		}
	case banking.CreateCounterparty:
		return func(ctx context.Context, req *connector.Request) (*connector.Result, error) {
			ids, err := stringArgs(req.Args, 2)
			if err != nil {
				return nil, err
			}
			cp, err := banking.Arg[banking.Counterparty](req.Args, 2)
			if err != nil {
				return nil, err
			}
			return result(c.CreateCounterparty(ctx, ids[0], ids[1], cp))
		}
	case banking.CreateTransactionRequest:
		return func(ctx context.Context, req *connector.Request) (*connector.Result, error) {
			ids, err := stringArgs(req.Args, 3)
			if err != nil {
				return nil, err
			}
			body, err := banking.Arg[banking.TransactionRequestBody](req.Args, 3)
			if err != nil {
				return nil, err
			}
			createdBy := ""
			if req.Call != nil && req.Call.Principal != nil {
				createdBy = req.Call.Principal.UserID
			}
			tr, _, err := c.CreateTransactionRequest(ctx, ids[0], ids[1], ids[2], body, createdBy)
			return result(tr, err)
		}
	case banking.GetShareableAccounts:
		return func(ctx context.Context, req *connector.Request) (*connector.Result, error) {
			userID, err := banking.Arg[string](req.Args, 0)
			if err != nil {
				return nil, err
			}
			return result(c.ShareableAccounts(ctx, userID))
		}
	case banking.SendScaChallenge:
		return func(ctx context.Context, req *connector.Request) (*connector.Result, error) {
			args, err := stringArgs(req.Args, 5)
			if err != nil {
				return nil, err
			}
			return result(c.SendScaChallenge(ctx, banking.ScaChallenge{UserID: args[0], ConsentID: args[1],
				Channel: args[2], Code: args[3], Text: args[4]}))
		}
	case banking.GetPayableAccounts:
		return func(ctx context.Context, req *connector.Request) (*connector.Result, error) {
			userID, err := banking.Arg[string](req.Args, 0)
			if err != nil {
				return nil, err
			}
			return result(c.PayableAccounts(ctx, userID))
		}
	}
	return nil
}

// result wraps a typed method's answer as a connector result.
func result[T any](v T, err error) (*connector.Result, error) {
	if err != nil {
		return nil, err
	}
	return &connector.Result{Data: v}, nil
}

// stringArgs decodes the first n arguments as strings.
func stringArgs(args []any, n int) ([]string, error) {
	out := make([]string, n)
	for i := range n {
		s, err := banking.Arg[string](args, i)
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

// key joins the parts of a store key with NUL.
func key(parts ...string) string { return strings.Join(parts, "\x00") }

// maxUserID bounds owner user ids.
const maxUserID = 256

// validUserID tells whether id can be an owner's user id: 1 to 256 bytes,
// no control characters (so no NUL in index keys).
func validUserID(id string) bool {
	if id == "" || len(id) > maxUserID {
		return false
	}
	for i := range len(id) {
		if id[i] < 0x20 || id[i] == 0x7f {
			return false
		}
	}
	return true
}

// getJSON reads and decodes the value under key; engine.ErrNotFound when
// missing.
func getJSON[T any](tx engine.Tx, bucket, k string) (T, error) {
	raw, err := tx.Get(bucket, k)
	if err != nil {
		var zero T
		return zero, err
	}
	return decode[T](raw)
}

// decode decodes a stored JSON value.
func decode[T any](raw []byte) (T, error) {
	var out T
	if err := json.Unmarshal(raw, &out); err != nil {
		return out, fmt.Errorf("mapped: decode %T: %w", out, err)
	}
	return out, nil
}

// putJSON encodes v and stores it under key.
func putJSON(tx engine.Tx, bucket, k string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("mapped: encode %s: %w", bucket, err)
	}
	return tx.Put(bucket, k, raw)
}

func notFound(format string, args ...any) *engine.Error {
	return engine.Errorf(http.StatusNotFound, engine.CodeNotFound, format, args...)
}

// invalid is a 400 validation_failed with violations.
func invalid(message string, faults []engine.Violation) *engine.Error {
	return engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed, message, faults...)
}

// fault is a violation at a JSON pointer of location.
func fault(location, pointer, code, message string) engine.Violation {
	return engine.Violation{Location: location, Pointer: pointer, Code: code, Message: message}
}

// checkLen appends a max_length violation when len(v) > max.
func checkLen(faults []engine.Violation, pointer, v string, max int) []engine.Violation {
	if len(v) > max {
		faults = append(faults, fault("body", pointer, "max_length", fmt.Sprintf("at most %d characters", max)))
	}
	return faults
}

// tick returns the time of a posting: now, but never before the previous
// posting, so that transaction keys (time, then sequence) sort in posting
// order even when the wall clock steps back. Call it inside an Update.
func (c *Connector) tick(tx engine.Tx) (time.Time, error) {
	t := c.now().UTC().Round(0)
	if t.Before(minTime) {
		t = minTime
	}
	raw, err := tx.Get(bucketMeta, keyClock)
	switch {
	case errors.Is(err, engine.ErrNotFound):
	case err != nil:
		return t, err
	default:
		var last int64
		if err := json.Unmarshal(raw, &last); err != nil {
			return t, fmt.Errorf("mapped: decode clock: %w", err)
		}
		if t.UnixNano() < last {
			t = time.Unix(0, last).UTC()
		}
	}
	return t, putJSON(tx, bucketMeta, keyClock, t.UnixNano())
}

// The times transaction keys can hold: Unix nanoseconds from 0 to
// MaxInt64.
var (
	minTime = time.Unix(0, 0).UTC()
	maxTime = time.Unix(0, 1<<63-1).UTC()
)
