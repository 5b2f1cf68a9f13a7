package banking

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/connector"
	"github.com/dynapi/dynapi/engine/guard"
)

// CallRules apply the rules of the banking core's routes (its document) to the
// calls scripts make through connector.call: a script calling getAccount,
// getTransactions or createTransactionRequest for an account reaches it
// only when its caller could through the route, and a list shows only what
// the route would show the caller. They implement connector.CallRules.
type CallRules struct {
	gate    *guard.Gate
	methods map[string]*ruledMethod
}

// ruledMethod is a built-in method with the route that calls it and where
// its arguments name the bank, account and user.
type ruledMethod struct {
	route                *route
	bank, account, owner int // argument positions; -1 when it has none
}

var _ connector.CallRules = (*CallRules)(nil)

// NewCallRules returns the rules of the routes, checked with gate.
func NewCallRules(gate *guard.Gate) *CallRules {
	methods := map[string]*connector.Method{}
	for _, m := range Methods() {
		methods[m.Name] = m
	}
	c := &CallRules{gate: gate, methods: map[string]*ruledMethod{}}
	for _, rt := range routes() {
		rm := &ruledMethod{route: rt, bank: -1, account: -1, owner: -1}
		m, ok := methods[rt.method]
		if !ok {
			continue // refused by Call
		}
		for i, a := range m.Args {
			switch a.Name {
			case "bankId":
				rm.bank = i
			case "accountId":
				rm.account = i
			case "userId":
				rm.owner = i
			}
		}
		c.methods[rt.method] = rm
	}
	return c
}

// Call implements connector.CallRules: the route's roles at the bank the
// arguments name (which must exist), then for holder routes the account
// the arguments name, which the caller must hold (or reach through the
// route's HolderOrRoles), or for lists the user they name, who must be the
// caller unless the route's HolderOrRoles let it read every account; a
// list answers only the caller's accounts unless so.
func (c *CallRules) Call(ctx context.Context, req *connector.Request, read connector.Reader,
	call func() (*connector.Result, error)) (*connector.Result, error) {
	rm, ok := c.methods[req.Method.Name]
	if !ok {
		return nil, engine.Errorf(http.StatusForbidden, engine.CodeForbidden,
			"connector.call cannot reach %s: no route calls it", req.Method.Name)
	}
	rt := rm.route
	if rt.rule.Public {
		return call()
	}
	var p *engine.Principal
	var grant *engine.ConsentGrant
	if req.Call != nil {
		p, grant = req.Call.Principal, req.Call.Consent
	}
	if p == nil {
		return nil, guard.Unauthenticated()
	}
	if grant != nil {
		p = consentCustomer(p, grant)
	}
	bankID, err := rm.arg(req, rm.bank)
	if err != nil {
		return nil, err
	}
	if err := c.gate.Authorize(ctx, p, &rt.rule, bankID); err != nil {
		return nil, err
	}
	switch {
	case !rt.holder:
		return call()
	case rm.account >= 0:
		return c.account(ctx, req, p, rm, bankID, read, call)
	}
	owner, err := rm.arg(req, rm.owner)
	if err != nil {
		return nil, err
	}
	if rt.readsAll(ctx, c.gate, p, bankID) && grant == nil {
		return call()
	}
	if owner != p.UserID {
		msg := rt.method + " answers only the caller's own accounts"
		if rt.others != nil {
			msg += " without one of the roles " + strings.Join(rt.others.Roles, ", ")
		}
		return nil, engine.NewError(http.StatusForbidden, engine.CodeForbidden, msg)
	}
	res, err := call()
	if err != nil {
		return nil, err
	}
	accounts, err := resultAs[[]Account](res)
	if err != nil {
		return nil, err
	}
	accounts = heldOnly(accounts, p)
	if grant != nil {
		accounts = slices.DeleteFunc(accounts, func(acc Account) bool { return !slices.Contains(grant.Accounts, acc.AccountID) })
	}
	return &connector.Result{Data: nonNil(accounts)}, nil
}

// consentCustomer is who a script's calls are checked for when it answers
// a call made under consent g (checked for that call): the consent's
// customer, not the caller, whose token stands for the TPP (a UK token
// granted under the consent, or a Berlin Group TPP's own token) and is
// admitted by no route of the core. What the customer may reach is then
// narrowed to the consent's accounts (account, Call).
func consentCustomer(caller *engine.Principal, g *engine.ConsentGrant) *engine.Principal {
	return &engine.Principal{UserID: g.UserID, ConsumerID: g.ConsumerID, Method: caller.Method}
}

// account makes a call about the account the arguments name when the
// caller may use it: getAccount's own answer is checked, other methods
// read the account first, as their routes do.
func (c *CallRules) account(ctx context.Context, req *connector.Request, p *engine.Principal, rm *ruledMethod, bankID string,
	read connector.Reader, call func() (*connector.Result, error)) (*connector.Result, error) {
	held := func(res *connector.Result) error {
		acc, err := resultAs[Account](res)
		if err != nil {
			return err
		}
		if g := req.Call.Consent; g != nil && !slices.Contains(g.Accounts, acc.AccountID) {
			return engine.NewError(http.StatusForbidden, CodeAccountOutsideConsent,
				"account "+acc.AccountID+" is not one of the accounts of consent "+g.ID)
		}
		return rm.route.holds(ctx, c.gate, p, bankID, &acc)
	}
	if rm.route.method == GetAccount {
		res, err := call()
		if err == nil {
			err = held(res)
		}
		if err != nil {
			return nil, err
		}
		return res, nil
	}
	accountID, err := rm.arg(req, rm.account)
	if err != nil {
		return nil, err
	}
	res, err := read(ctx, GetAccount, bankID, accountID)
	if err != nil {
		return nil, err
	}
	if err := held(res); err != nil {
		return nil, err
	}
	return call()
}

// arg is the string argument at position i ("" when the method has none).
func (rm *ruledMethod) arg(req *connector.Request, i int) (string, error) {
	if i < 0 {
		return "", nil
	}
	return Arg[string](req.Args, i)
}
