package consent

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
)

// KindDomesticVRP is the kind of UK variable recurring payment consents.
const KindDomesticVRP = "domestic-vrp"

// CodeLimitBreached: a variable recurring payment breaks a control of its
// consent (400; UK U014); the violation names the control.
const CodeLimitBreached = "limit_breached"

// controls are a VRP consent's control parameters, as the payments read
// them.
type controls struct {
	ValidFrom               *time.Time `json:"ValidFromDateTime"`
	ValidTo                 *time.Time `json:"ValidToDateTime"`
	MaximumIndividualAmount obAmount   `json:"MaximumIndividualAmount"`
	PeriodicLimits          []struct {
		PeriodType      string `json:"PeriodType"`
		PeriodAlignment string `json:"PeriodAlignment"`
		obAmount
	} `json:"PeriodicLimits"`
}

// controlsPath is where a consent's controls are, as the standard's
// refusals name them.
const controlsPath = "/Data/ControlParameters"

// payVRP makes the variable recurring payment the call posts under VRP
// consent c: its Initiation must be the consent's, its creditor the
// Initiation's when that names one, and it must keep every control of the
// consent: the validity window, MaximumIndividualAmount and every
// PeriodicLimits period. The period totals are kept in vrp_ledger and the
// payment is reserved against them in the transaction that records it, so
// concurrent payments cannot overshoot; the core then pays it, and a
// refusal of the core releases the reservation.
func (p *payments) payVRP(ctx context.Context, call *engine.Call, c *Consent, posted, agreed *obRequest,
	key, hash string, who audit.Actor) (*engine.Reply, error) {
	if err := matches(c.ID, posted, agreed, false); err != nil {
		return nil, err
	}
	var ctl controls
	if err := json.Unmarshal(agreed.Data.ControlParameters, &ctl); err != nil {
		return nil, engine.Internal(fmt.Errorf("consent %s: its control parameters: %w", c.ID, err))
	}
	instr := posted.Data.Instruction
	amount := instr.InstructedAmount
	if err := ctl.allow(amount, p.svc.now()); err != nil {
		return nil, err
	}
	creditor := instr.CreditorAccount
	if named := agreed.Data.Initiation.CreditorAccount; named.Identification != "" &&
		(named.Identification != creditor.Identification || trimNamespace(named.SchemeName) != trimNamespace(creditor.SchemeName)) {
		msg := "the creditor must be the one the consent's Initiation names"
		return nil, engine.NewError(http.StatusBadRequest, CodePaymentMismatch, msg,
			engine.Violation{Location: "body", Pointer: "/Data/Instruction/CreditorAccount", Code: CodePaymentMismatch, Message: msg})
	}
	bankID, from, err := p.debtor(ctx, call, c)
	if err != nil {
		return nil, err
	}
	to, err := p.creditor(ctx, call, bankID, creditor)
	if err != nil {
		return nil, err
	}
	pay := &Payment{ConsentID: c.ID, ConsumerID: who.ConsumerID, Kind: c.Kind, Status: PaymentPending, BankID: bankID, From: from,
		To: to, Value: amount.money(), Description: cmp.Or(instr.RemittanceInformation.Reference, instr.EndToEndIdentification),
		Initiation: posted.Data.InitiationRaw, Instruction: posted.Data.InstructionRaw, Risk: posted.Risk}
	pay.Resource = p.resource(call, c.Kind)
	prior, err := p.svc.reserveVRP(ctx, pay, &ctl, key, hash, who)
	switch {
	case err != nil:
		return nil, err
	case prior != nil:
		return p.replay(ctx, call, prior, key)
	}
	return p.complete(ctx, call, pay, key)
}

// complete has the core pay pending VRP pay, made with idempotency key k,
// and records the outcome (settle). The core's idempotency key is the
// payment's: a payment left pending by a crash between the two is
// completed by the TPP's retry with k (replay), paid once.
func (p *payments) complete(ctx context.Context, call *engine.Call, pay *Payment, k string) (*engine.Reply, error) {
	trID, payErr := p.core.Pay(ctx, call, Transfer{BankID: pay.BankID, From: pay.From, To: pay.To, Key: "uk-vrp/" + pay.ID,
		Value: pay.Value, Description: pay.Description})
	settled, err := p.svc.settle(ctx, pay.ID, k, trID, payErr == nil)
	if payErr != nil {
		return nil, refusedByCore(payErr, "/Data/Instruction/InstructedAmount")
	}
	if err != nil {
		return nil, err
	}
	return p.reply(http.StatusCreated, settled, selfURL(call, settled.ID))
}

// allow refuses amount when it breaks a control that needs no totals: the
// validity window at now, the currency, MaximumIndividualAmount.
func (ctl *controls) allow(amount obAmount, now time.Time) error {
	max := ctl.MaximumIndividualAmount
	switch {
	case ctl.ValidFrom != nil && now.Before(*ctl.ValidFrom):
		return breach(controlsPath+"/ValidFromDateTime", "the consent pays from "+stamp(*ctl.ValidFrom))
	case ctl.ValidTo != nil && !now.Before(*ctl.ValidTo):
		return breach(controlsPath+"/ValidToDateTime", "the consent paid until "+stamp(*ctl.ValidTo))
	case amount.Currency != max.Currency:
		return breach(controlsPath+"/MaximumIndividualAmount/Currency", "the consent pays in "+max.Currency)
	case !covers(max.money(), amount.money()):
		return breach(controlsPath+"/MaximumIndividualAmount", fmt.Sprintf("a payment is at most %s %s", max.Amount, max.Currency))
	}
	return nil
}

// breach is the 400 of a control broken, at pointer.
func breach(pointer, msg string) error {
	return engine.NewError(http.StatusBadRequest, CodeLimitBreached, "the payment breaks a control of its consent: "+msg,
		engine.Violation{Location: "consent", Pointer: pointer, Code: CodeLimitBreached, Message: msg})
}

// periodStart is the start of the period of type kind (Day, Week,
// Fortnight, Month, Half-year, Year) holding now: aligned to the calendar
// (UTC days; weeks and fortnights from Monday 5 January 1970; months,
// half-years and years from their first day), or to the consent's start
// (from).
func periodStart(kind string, calendar bool, from, now time.Time) (time.Time, error) {
	now = now.UTC()
	days := map[string]int{"Day": 1, "Week": 7, "Fortnight": 14}
	months := map[string]int{"Month": 1, "Half-year": 6, "Year": 12}
	if calendar {
		from = time.Date(1970, 1, 5, 0, 0, 0, 0, time.UTC) // a Monday
		if months[kind] > 0 {
			from = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
		}
	}
	from = from.UTC()
	if n := days[kind]; n > 0 {
		span := time.Duration(n) * 24 * time.Hour
		return from.Add(now.Sub(from) / span * span), nil
	}
	n := months[kind]
	if n == 0 {
		return time.Time{}, fmt.Errorf("period type %q is not Day, Week, Fortnight, Month, Half-year or Year", kind)
	}
	elapsed := (now.Year()-from.Year())*12 + int(now.Month()) - int(from.Month())
	start := from.AddDate(0, elapsed-elapsed%n, 0)
	if start.After(now) {
		start = from.AddDate(0, elapsed-elapsed%n-n, 0)
	}
	return start, nil
}

// controlFaults are what is wrong with the control parameters of a VRP
// consent request's Data, beyond its schema: a validity window that ends
// before it starts, limits in another currency than
// MaximumIndividualAmount, two limits of one period type and alignment.
func controlFaults(data map[string]any) []engine.Violation {
	raw, err := json.Marshal(data["ControlParameters"])
	var ctl controls
	if err == nil {
		err = json.Unmarshal(raw, &ctl)
	}
	if err != nil {
		return []engine.Violation{{Location: "body", Pointer: controlsPath, Code: "invalid", Message: "ControlParameters: " + err.Error()}}
	}
	var faults []engine.Violation
	fault := func(pointer, msg string) {
		faults = append(faults, engine.Violation{Location: "body", Pointer: controlsPath + pointer, Code: "invalid", Message: msg})
	}
	if ctl.ValidFrom != nil && ctl.ValidTo != nil && !ctl.ValidTo.After(*ctl.ValidFrom) {
		fault("/ValidToDateTime", "ValidToDateTime must be after ValidFromDateTime")
	}
	seen := map[string]bool{}
	for i, l := range ctl.PeriodicLimits {
		if l.Currency != ctl.MaximumIndividualAmount.Currency {
			fault(fmt.Sprintf("/PeriodicLimits/%d/Currency", i), "a limit is in the currency of MaximumIndividualAmount, "+ctl.MaximumIndividualAmount.Currency)
		}
		if period := l.PeriodType + "/" + l.PeriodAlignment; seen[period] {
			fault(fmt.Sprintf("/PeriodicLimits/%d", i), "a second "+l.PeriodType+" limit aligned to "+l.PeriodAlignment)
		} else {
			seen[period] = true
		}
	}
	return faults
}
