package core

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/banking"
	"github.com/dynapi/dynapi/engine/connector"
	"github.com/dynapi/dynapi/internal/textcut"
	"github.com/dynapi/dynapi/specs"
)

// Bounds of one call's reads of the core.
const (
	// maxAccounts is the most accounts one answer shows.
	maxAccounts = 100
	// pageSize is the most transactions one answer shows per account:
	// the newest in the window asked for.
	pageSize = 100
	// maxSearched is the most transactions of an account searched for
	// one by its id, newest first.
	maxSearched = 10 * pageSize
)

// call is one call being answered: who the customer is and how to reach
// the core for them.
type call struct {
	c   *Connector
	op  *specs.Operation
	req *connector.Request
	// userID is the customer whose accounts are answered: the consent's
	// customer under a consent, else the caller.
	userID string
	// consent lists the accounts a consent lets the call see; nil when
	// the call is under none.
	consent []string
	query   url.Values
	// uk are the codes of the UK version being answered.
	uk  ukCodes
	v31 bool
	// parties memoises the routings of the other sides of transactions.
	parties map[banking.AccountRef][]banking.Routing
}

// newCall reads who the call is for. A call under a consent is answered
// for the consent's customer, whoever makes it (a TPP's client-credentials
// token in Berlin Group); any other for the authenticated caller (a token
// granted under a consent never gets here: the guard admits it only where
// its consent decides, see guard.Rule.Consented).
func newCall(c *Connector, op *specs.Operation, req *connector.Request) (*call, error) {
	k := &call{c: c, op: op, req: req}
	ec := req.Call
	switch {
	case ec == nil:
		return nil, engine.Errorf(http.StatusInternalServerError, engine.CodeInternal, "core: operation %s called without a request", op.ID)
	case ec.Consent != nil:
		k.userID, k.consent = ec.Consent.UserID, ec.Consent.Accounts
	case ec.Principal != nil && ec.Principal.UserID != "":
		k.userID = ec.Principal.UserID
	default:
		return nil, engine.Errorf(http.StatusUnauthorized, engine.CodeUnauthorized,
			"operation %s answers a customer's accounts: log in as the customer", op.ID)
	}
	if ec.HTTP != nil {
		k.query, _ = url.ParseQuery(ec.HTTP.RawQuery())
	}
	return k, nil
}

// method calls the core's method name at bankID, routed by the
// dispatcher like any call of it. The call skips the access rules scripts'
// calls pass (connector.CallRules), which check the caller: the caller of
// a Berlin Group call is the TPP, not the customer. The customer is
// decided here instead, once, from the consent or the caller, and every
// account read is checked to be held by that customer (see accounts).
func (k *call) method(ctx context.Context, bankID, name string, args ...any) (any, error) {
	parent := *k.req
	parent.BankID, parent.Unrestricted = bankID, true
	return k.c.caller.CallMethod(ctx, &parent, name, args)
}

// accounts are the customer's accounts the call may show: at the
// document's bank when it is a bank's document, else at every bank;
// under a consent, only the consent's; at most maxAccounts.
func (k *call) accounts(ctx context.Context) ([]banking.Account, error) {
	var data any
	var err error
	if bankID := k.req.Call.BankID; bankID != "" {
		data, err = k.method(ctx, bankID, banking.GetAccounts, bankID, k.userID)
	} else {
		data, err = k.method(ctx, "", banking.GetShareableAccounts, k.userID)
	}
	if err != nil {
		return nil, err
	}
	all, err := banking.As[[]banking.Account](data)
	if err != nil {
		return nil, err
	}
	out := make([]banking.Account, 0, min(len(all), maxAccounts))
	for _, acc := range all {
		if len(out) == maxAccounts {
			break
		}
		if k.holds(acc) && (k.consent == nil || slices.Contains(k.consent, acc.AccountID)) {
			out = append(out, acc)
		}
	}
	return out, nil
}

// holds reports whether the customer holds acc: what a connector answers
// is checked, so a routing that answers too much shows nothing more.
func (k *call) holds(acc banking.Account) bool {
	return slices.ContainsFunc(acc.Owners, func(o banking.Owner) bool { return o.UserID == k.userID })
}

// account is the customer's account with the id in path parameter
// param; a 404 when the customer holds none so named.
func (k *call) account(ctx context.Context, param string) (banking.Account, error) {
	id := k.path(param)
	all, err := k.accounts(ctx)
	if err != nil {
		return banking.Account{}, err
	}
	for _, acc := range all {
		if acc.AccountID == id {
			return acc, nil
		}
	}
	return banking.Account{}, engine.Errorf(http.StatusNotFound, engine.CodeNotFound, "no account %q of yours", id)
}

// path is the value of path parameter name.
func (k *call) path(name string) string {
	p := k.req.Call.Path
	for _, prm := range k.op.Params {
		if prm.In == "path" && prm.Name == name && p != nil && prm.PathIndex < p.Len() {
			return p.Value(prm.PathIndex)
		}
	}
	return ""
}

// transactions are the newest transactions of acc in the window q, a
// page of pageSize from offset on.
func (k *call) transactions(ctx context.Context, acc banking.Account, q banking.TransactionQuery, offset int) ([]banking.Transaction, error) {
	q.Limit, q.Offset = pageSize, offset
	data, err := k.method(ctx, acc.BankID, banking.GetTransactions, acc.BankID, acc.AccountID, q)
	if err != nil {
		return nil, err
	}
	return banking.As[[]banking.Transaction](data)
}

// counterparties are the payees acc saved.
func (k *call) counterparties(ctx context.Context, acc banking.Account) ([]banking.Counterparty, error) {
	data, err := k.method(ctx, acc.BankID, banking.GetCounterparties, acc.BankID, acc.AccountID)
	if err != nil {
		return nil, err
	}
	return banking.As[[]banking.Counterparty](data)
}

// routingsOf are the routings of the account ref points at, read once per
// call; none when it is not an account of this core or cannot be read.
func (k *call) routingsOf(ctx context.Context, ref banking.AccountRef) []banking.Routing {
	if ref.BankID == "" || ref.AccountID == "" {
		return nil
	}
	if r, ok := k.parties[ref]; ok {
		return r
	}
	var routings []banking.Routing
	if data, err := k.method(ctx, ref.BankID, banking.GetAccount, ref.BankID, ref.AccountID); err == nil {
		if acc, err := banking.As[banking.Account](data); err == nil {
			routings = acc.AccountRoutings
		}
	}
	if k.parties == nil {
		k.parties = map[banking.AccountRef][]banking.Routing{}
	}
	k.parties[ref] = routings
	return routings
}

// base is the served path the operation's template is mounted under
// ("/psd2" for /psd2/v1/accounts), for links.
func (k *call) base() string {
	if k.req.Call.HTTP == nil {
		return ""
	}
	path := k.req.Call.HTTP.Path()
	segs := strings.Count(strings.Trim(k.op.Path, "/"), "/") + 1
	for range segs {
		i := strings.LastIndexByte(path, '/')
		if i < 0 {
			return ""
		}
		path = path[:i]
	}
	return path
}

// self is the absolute URL of the request being answered, over https
// (the standards require TLS; a proxy in front terminates it); "" when
// the request named no host, or one that is not a host.
func (k *call) self() string {
	h := k.req.Call.HTTP
	if h == nil {
		return ""
	}
	host, _ := h.Header("Host")
	if parsed, err := url.Parse("https://" + host); host == "" || err != nil || parsed.Host != host || parsed.User != nil {
		return ""
	}
	u := url.URL{Scheme: "https", Host: host, Path: h.Path(), RawQuery: h.RawQuery()}
	return u.String()
}

// ownerNames are the usernames of acc's holders, joined, cut to max
// bytes.
func ownerNames(acc banking.Account, max int) string {
	names := make([]string, 0, len(acc.Owners))
	for _, o := range acc.Owners {
		if o.Username != "" {
			names = append(names, o.Username)
		}
	}
	return textcut.Bytes(strings.Join(names, ", "), max)
}
