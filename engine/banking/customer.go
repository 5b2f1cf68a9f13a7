package banking

import (
	"context"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/connector"
)

// ShareableAccounts asks the connector routed for getShareableAccounts
// which accounts the customer p may share in a consent (at any bank).
// The engine asks it when a customer authorises a consent or changes its
// accounts, so a bank's own routing of the method decides.
func ShareableAccounts(ctx context.Context, methods *connector.Dispatcher, p *engine.Principal) ([]Account, error) {
	return customerAccounts(ctx, methods, GetShareableAccounts, p)
}

// PayableAccounts asks the connector routed for getPayableAccounts which
// accounts the customer p may pay from (at any bank): the engine asks it
// when a customer authorises a payment consent and when it pays.
func PayableAccounts(ctx context.Context, methods *connector.Dispatcher, p *engine.Principal) ([]Account, error) {
	return customerAccounts(ctx, methods, GetPayableAccounts, p)
}

// customerAccounts calls method, a list of the accounts of the customer p.
func customerAccounts(ctx context.Context, methods *connector.Dispatcher, method string, p *engine.Principal) ([]Account, error) {
	res, err := methods.Call(ctx, &engine.Call{OperationID: method, Principal: p}, method, "", p.UserID)
	if err != nil {
		return nil, err
	}
	return resultAs[[]Account](res)
}
