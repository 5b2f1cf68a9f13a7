package consent

import (
	"context"
	"encoding/json"
	"math/big"
	"net/http"

	"github.com/google/uuid"

	"github.com/dynapi/dynapi/engine"
)

// funds answers a funds confirmation under the consent the call carries
// (and names in its path, when the operation's path names one):
// whether the balance of the consent's account (the core's getAccount)
// covers the amount, which is the payment consent's (PIS, a GET) or the
// one posted (CBPII).
func (p *payments) funds(ctx context.Context, call *engine.Call) (*engine.Reply, error) {
	if p.bind.IDParam != "" && pathValue(p.op, call, p.bind.IDParam) != call.Consent.ID {
		msg := "funds are confirmed only for consent " + call.Consent.ID + ", which the access token was granted under"
		return nil, engine.NewError(http.StatusForbidden, CodeConsentAccountOutOfScope, msg,
			engine.Violation{Location: "path", Pointer: "/" + p.bind.IDParam, Code: CodeConsentAccountOutOfScope, Message: msg})
	}
	c, err := p.svc.Get(ctx, call.Consent.ID)
	if err != nil {
		return nil, err
	}
	agreed, err := parseRequest(c.Request)
	if err != nil {
		return nil, err
	}
	amount := agreed.Data.Initiation.InstructedAmount
	var posted *obRequest
	if c.Kind != KindDomesticPayment {
		if posted, err = fundsRequest(call); err != nil {
			return nil, err
		}
		amount = *posted.Data.InstructedAmount
	}
	bankID, accountID, err := p.debtor(ctx, call, c)
	if err != nil {
		return nil, err
	}
	balance, err := p.core.Balance(ctx, call, bankID, accountID)
	if err != nil {
		return nil, engine.AsError(err)
	}
	available, now := covers(balance, amount.money()), stamp(p.svc.now())
	var out any
	status := http.StatusOK
	if posted == nil {
		out = map[string]any{"Data": map[string]any{"FundsAvailableResult": map[string]any{"FundsAvailableDateTime": now,
			"FundsAvailable": available}}, "Links": links{Self: selfURL(call, "")}, "Meta": struct{}{}}
	} else if c.Kind == KindDomesticVRP {
		id, words := uuid.NewString(), map[bool]string{true: "Available", false: "NotAvailable"}
		status = http.StatusCreated
		data := map[string]any{"FundsConfirmationId": id, "ConsentId": c.ID, "CreationDateTime": now, "InstructedAmount": amount,
			"FundsAvailableResult": map[string]any{"FundsAvailableDateTime": now, "FundsAvailable": words[available]}}
		if posted.Data.Reference != "" {
			data["Reference"] = posted.Data.Reference
		}
		out = map[string]any{"Data": data, "Links": links{Self: selfURL(call, id)}, "Meta": struct{}{}}
	} else {
		id := uuid.NewString()
		status = http.StatusCreated
		out = map[string]any{"Data": map[string]any{"FundsConfirmationId": id, "ConsentId": c.ID, "CreationDateTime": now,
			"FundsAvailable": available, "Reference": posted.Data.Reference, "InstructedAmount": amount},
			"Links": links{Self: selfURL(call, id)}, "Meta": struct{}{}}
	}
	body, err := json.Marshal(out)
	if err != nil {
		return nil, engine.Internal(err)
	}
	return &engine.Reply{Status: status, ContentType: "application/json; charset=utf-8", Body: body}, nil
}

// fundsRequest is the call's funds confirmation request: an amount, for
// the consent the call is made under (another consent's account is a 403).
func fundsRequest(call *engine.Call) (*obRequest, error) {
	req, err := postedRequest(call, http.StatusForbidden, CodeConsentAccountOutOfScope,
		"funds are confirmed only for the account of consent "+call.Consent.ID+", which the access token was granted under")
	if err != nil {
		return nil, err
	}
	if req.Data.InstructedAmount == nil {
		msg := "Data.InstructedAmount is required"
		return nil, engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed, msg,
			engine.Violation{Location: "body", Pointer: "/Data/InstructedAmount", Code: "required", Message: msg})
	}
	return req, nil
}

// covers tells whether balance covers amount: the same currency, and at
// least as much.
func covers(balance, amount Money) bool {
	b, okB := new(big.Rat).SetString(balance.Amount)
	a, okA := new(big.Rat).SetString(amount.Amount)
	return okB && okA && balance.Currency == amount.Currency && b.Cmp(a) >= 0
}
