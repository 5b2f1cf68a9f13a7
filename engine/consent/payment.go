package consent

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/events"
	"github.com/dynapi/dynapi/specs"
)

// Consent kinds the payment operations answer (Profile.Kind).
const (
	KindDomesticPayment   = "domestic-payment"
	KindFundsConfirmation = "funds-confirmation"
)

// Codes of the refusals of payments under a consent.
const (
	// CodePaymentMismatch: the payment's Initiation or Risk is not the
	// consent's (400); each differing field is named.
	CodePaymentMismatch = "payment_mismatch"
	// CodeCreditorUnknown: the creditor account is not an account of this
	// server (400): payments go only to accounts this server holds.
	CodeCreditorUnknown = "creditor_unknown"
	// CodeDebtorUnknown: the consent's account is not one the customer may
	// pay from any more (403).
	CodeDebtorUnknown = "debtor_unknown"
	// CodePaymentUnknown: no payment of the caller has the id (400).
	CodePaymentUnknown = "payment_unknown"
)

// maxIdempotencyKey bounds an x-idempotency-key (the UK standard: 40).
const maxIdempotencyKey = 40

// payments answers the operations a profile binds to funds, pay or
// payment: funds confirmations and payments under a consent, made through
// the banking core, and the TPP's reads of its payments.
type payments struct {
	svc     *Service
	core    Core
	profile *Profile
	bind    Binding
	op      *specs.Operation
}

// Invoke implements engine.Invoker. The consent check has allowed the
// call (funds, pay): it carries the consent.
func (p *payments) Invoke(ctx context.Context, call *engine.Call) (*engine.Reply, error) {
	if p.core == nil {
		return nil, engine.NewError(http.StatusNotImplemented, engine.CodeNotImplemented, "no banking core answers payments here")
	}
	switch p.bind.Action {
	case ActionFunds:
		return p.funds(ctx, call)
	case ActionPay:
		return p.pay(ctx, call)
	}
	return p.read(ctx, call)
}

// pay makes the payment the call posts, which must be the consent's
// exactly (Initiation and Risk), once: the consent is consumed with it. A
// repeated x-idempotency-key with the same body answers the first payment
// again; with another body it is refused.
//
// The core pays before the payment is recorded: the core's idempotency key
// is the consent's, so a payment recorded nowhere after a crash is paid
// at most once, and recorded by the next request under the consent.
func (p *payments) pay(ctx context.Context, call *engine.Call) (*engine.Reply, error) {
	key, hash, err := idempotency(call)
	if err != nil {
		return nil, err
	}
	who := audit.Actor{UserID: call.Principal.UserID, ConsumerID: call.Principal.ConsumerID, CorrelationID: call.CorrelationID}
	prior, err := p.svc.replayed(ctx, who.ConsumerID, key, hash)
	if err != nil {
		return nil, err
	}
	if prior != nil {
		return p.replay(ctx, call, prior, key)
	}
	c, err := p.svc.Get(ctx, call.Consent.ID)
	if err != nil {
		return nil, err
	}
	posted, err := postedRequest(call, http.StatusBadRequest, engine.CodeValidationFailed,
		"Data.ConsentId must be the consent the access token was granted under, "+call.Consent.ID)
	if err != nil {
		return nil, err
	}
	agreed, err := parseRequest(c.Request)
	if err != nil {
		return nil, err
	}
	if c.Kind == KindDomesticVRP {
		return p.payVRP(ctx, call, c, posted, agreed, key, hash, who)
	}
	if c.Status != Authorised {
		return nil, engine.Errorf(http.StatusForbidden, CodeConsentConsumed, "consent %s is %s: it pays no more", c.ID, c.Status)
	}
	if err := matches(c.ID, posted, agreed, true); err != nil {
		return nil, err
	}
	bankID, from, err := p.debtor(ctx, call, c)
	if err != nil {
		return nil, err
	}
	to, err := p.creditor(ctx, call, bankID, agreed.Data.Initiation.CreditorAccount)
	if err != nil {
		return nil, err
	}
	in := agreed.Data.Initiation
	t := Transfer{BankID: bankID, From: from, To: to, Key: "uk-pis/" + c.ID, Value: in.InstructedAmount.money(),
		Description: cmp.Or(in.RemittanceInformation.Reference, in.EndToEndIdentification)}
	trID, err := p.core.Pay(ctx, call, t)
	if err != nil {
		return nil, refusedByCore(err, "/Data/Initiation/InstructedAmount")
	}
	pay := &Payment{ConsentID: c.ID, ConsumerID: who.ConsumerID, Kind: c.Kind, Status: PaymentCompleted, BankID: bankID, From: from,
		To: to, TransactionRequestID: trID, Value: t.Value, Initiation: posted.Data.InitiationRaw}
	pay.Resource = p.resource(call, c.Kind)
	made, err := p.svc.consume(ctx, pay, key, hash, who)
	if err != nil {
		return nil, err
	}
	return p.reply(http.StatusCreated, made, selfURL(call, made.ID))
}

// replay answers a payment request with the key that made prior again:
// prior's answer, once a payment left pending is completed.
func (p *payments) replay(ctx context.Context, call *engine.Call, prior *Payment, key string) (*engine.Reply, error) {
	if prior.Status == PaymentPending {
		return p.complete(ctx, call, prior, key)
	}
	return p.reply(http.StatusCreated, prior, selfURL(call, prior.ID))
}

// read answers the TPP's read of a payment it made, or of its details.
func (p *payments) read(ctx context.Context, call *engine.Call) (*engine.Reply, error) {
	if call.Principal == nil || call.Principal.ConsumerID == "" {
		return nil, engine.NewError(http.StatusForbidden, CodeConsentMissingTPP, "payments are read by the TPP that made them")
	}
	id := pathValue(p.op, call, p.bind.IDParam)
	pay, err := p.svc.Payment(ctx, id)
	switch {
	case err != nil && !notFound(err):
		return nil, err
	case err != nil || pay.Kind != p.profile.Kind || pay.ConsumerID != call.Principal.ConsumerID:
		msg := "no payment " + id + " of yours here"
		return nil, engine.NewError(http.StatusBadRequest, CodePaymentUnknown, msg,
			engine.Violation{Location: "path", Pointer: "/" + p.bind.IDParam, Code: "resource_not_found", Message: msg})
	}
	if p.bind.Action == ActionPaymentDetails {
		return p.details(pay, selfURL(call, ""))
	}
	return p.reply(http.StatusOK, pay, selfURL(call, ""))
}

// details renders the status of pay's one transfer (UK
// OBWritePaymentDetailsResponse1, OBDomesticVRPDetails): the core's
// transaction request, or the payment itself before the core answered.
func (p *payments) details(pay *Payment, self string) (*engine.Reply, error) {
	body, err := json.Marshal(map[string]any{"Data": map[string]any{"PaymentStatus": []any{map[string]any{
		"PaymentTransactionId": cmp.Or(pay.TransactionRequestID, pay.ID), "Status": paymentStatuses[pay.Status],
		"StatusUpdateDateTime": stamp(pay.CreatedAt)}}}, "Links": links{Self: self}, "Meta": struct{}{}})
	if err != nil {
		return nil, engine.Internal(err)
	}
	return &engine.Reply{Status: http.StatusOK, ContentType: "application/json; charset=utf-8", Body: body}, nil
}

// reply renders pay as the UK payment response: OBWriteDomesticResponse5,
// or OBDomesticVRPResponse for a variable recurring payment.
func (p *payments) reply(status int, pay *Payment, self string) (*engine.Reply, error) {
	at := stamp(pay.CreatedAt)
	data := map[string]any{"ConsentId": pay.ConsentID, "CreationDateTime": at, "Status": paymentStatuses[pay.Status],
		"StatusUpdateDateTime": at, "Initiation": pay.Initiation}
	out := map[string]any{"Data": data, "Links": links{Self: self}, "Meta": struct{}{}}
	if pay.Kind == KindDomesticVRP {
		data["DomesticVRPId"], data["Instruction"], out["Risk"] = pay.ID, pay.Instruction, pay.Risk
	} else {
		data["DomesticPaymentId"] = pay.ID
	}
	body, err := json.Marshal(out)
	if err != nil {
		return nil, engine.Internal(err)
	}
	return &engine.Reply{Status: status, ContentType: "application/json; charset=utf-8", Body: body}, nil
}

// paymentStatuses are the UK words of a payment's statuses: the core posts
// both sides at once, so a completed payment is settled (ACSC).
var paymentStatuses = map[string]string{PaymentCompleted: "ACSC", PaymentPending: "PDNG", PaymentRejected: "RJCT"}

// debtor is the core account the consent pays from, which the customer
// chose at authorisation: its bank is the consent's, or, for a consent
// made at system level, the bank the customer may pay from it at.
func (p *payments) debtor(ctx context.Context, call *engine.Call, c *Consent) (bankID, accountID string, err error) {
	if len(c.Accounts) != 1 {
		return "", "", engine.Errorf(http.StatusForbidden, CodeDebtorUnknown, "consent %s names no single account to pay from", c.ID)
	}
	accountID = c.Accounts[0]
	if c.BankID != "" {
		return c.BankID, accountID, nil
	}
	bankID, ok, err := p.core.PayableBank(ctx, call, c.UserID, accountID)
	switch {
	case err != nil:
		return "", "", engine.AsError(err)
	case !ok:
		return "", "", engine.Errorf(http.StatusForbidden, CodeDebtorUnknown,
			"account %s of consent %s is not one the customer may pay from any more", accountID, c.ID)
	}
	return bankID, accountID, nil
}

// creditor is the core account the creditor account identifies by
// routing, at the debtor's bank bankID or another bank of this server: the
// scheme without its UK.OBIE. namespace (IBAN, SortCodeAccountNumber) and
// the identification. An account elsewhere is refused: the engine pays
// only between accounts this server holds.
func (p *payments) creditor(ctx context.Context, call *engine.Call, bankID string, acc obAccount) (AccountRef, error) {
	scheme := trimNamespace(acc.SchemeName)
	to, ok, err := p.core.AccountByRouting(ctx, call, bankID, scheme, acc.Identification)
	switch {
	case err != nil:
		return to, engine.AsError(err)
	case !ok:
		msg := fmt.Sprintf("no account of this server has routing %s %s: payments go only to accounts this server holds", scheme, acc.Identification)
		return to, engine.NewError(http.StatusBadRequest, CodeCreditorUnknown, msg,
			engine.Violation{Location: "body", Pointer: "/Data/Initiation/CreditorAccount/Identification", Code: CodeCreditorUnknown, Message: msg})
	}
	return to, nil
}

// refusedByCore is the core's refusal of a payment in the standard's
// terms: a refusal of the payment itself (422: insufficient funds, an
// account closed) is a 400 naming the amount (pointer), its code kept;
// any other error stays as it is.
func refusedByCore(err error, pointer string) error {
	e := engine.AsError(err)
	if e.Status != http.StatusUnprocessableEntity {
		return e
	}
	return engine.NewError(http.StatusBadRequest, e.Code, "the bank refused the payment: "+e.Message,
		engine.Violation{Location: "body", Pointer: pointer, Code: e.Code, Message: e.Message}).WithCause(err)
}

// trimNamespace is a UK scheme name without its UK.OBIE. namespace.
func trimNamespace(scheme string) string { return strings.TrimPrefix(scheme, "UK.OBIE.") }

// matches refuses a payment whose Initiation, or Risk when withRisk, is
// not the consent's, naming each differing field.
func matches(consentID string, posted, agreed *obRequest, withRisk bool) error {
	type part struct {
		at          string
		want, got   json.RawMessage
		consentPart string
	}
	parts := []part{{"/Data/Initiation", agreed.Data.InitiationRaw, posted.Data.InitiationRaw, "Initiation"}}
	if withRisk {
		parts = append(parts, part{"/Risk", agreed.Risk, posted.Risk, "Risk"})
	}
	var faults []engine.Violation
	for _, part := range parts {
		ptrs, err := differences(part.at, part.want, part.got)
		if err != nil {
			return engine.Internal(err)
		}
		for _, ptr := range ptrs {
			faults = append(faults, engine.Violation{Location: "body", Pointer: ptr, Code: CodePaymentMismatch,
				Message: fieldPath(ptr) + " differs from the consent's " + part.consentPart})
		}
	}
	if len(faults) > 0 {
		return engine.NewError(http.StatusBadRequest, CodePaymentMismatch,
			"the payment is not the one consent "+consentID+" agreed", faults...)
	}
	return nil
}

// idempotency is the call's x-idempotency-key, required, and the hash of
// its body (canonical JSON).
func idempotency(call *engine.Call) (key, hash string, err error) {
	if call.HTTP != nil {
		key, _ = call.HTTP.Header("x-idempotency-key")
	}
	if key == "" || len(key) > maxIdempotencyKey {
		msg := fmt.Sprintf("x-idempotency-key is required: 1 to %d characters", maxIdempotencyKey)
		return "", "", engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed, msg,
			engine.Violation{Location: "header", Pointer: "/x-idempotency-key", Code: "required", Message: msg})
	}
	canonical, err := json.Marshal(call.Body)
	if err != nil {
		return "", "", engine.Internal(err)
	}
	sum := sha256.Sum256(canonical)
	return key, hex.EncodeToString(sum[:]), nil
}

// postedRequest is the call's UK request, whose Data.ConsentId must be
// the consent the call is made under: otherwise it is refused with status
// and code, saying why.
func postedRequest(call *engine.Call, status int, code, why string) (*obRequest, error) {
	raw, err := json.Marshal(call.Body)
	if err != nil {
		return nil, engine.Internal(err)
	}
	req, err := parseRequest(raw)
	if err != nil {
		return nil, err
	}
	if req.Data.ConsentID != call.Consent.ID {
		return nil, engine.NewError(status, code, why, engine.Violation{Location: "body", Pointer: "/Data/ConsentId", Code: code, Message: why})
	}
	return req, nil
}

// resource is the payment being made by call under a consent of kind, as
// UK events name it: the operation's path and, once stored, its id.
func (p *payments) resource(call *engine.Call, kind string) *events.Resource {
	return &events.Resource{Type: kind, Path: selfPath(call, ""), Version: p.profile.Version}
}
