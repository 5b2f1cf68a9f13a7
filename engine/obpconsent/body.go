package obpconsent

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dynapi/dynapi/engine"
)

// Body is OBP's consent body (PostConsentBodyCommonJson), as a customer
// posts it to create a consent or a consumer to start a consent request.
type Body struct {
	// Everything names every account the customer may share at the bank,
	// with the view "owner".
	Everything bool `json:"everything"`
	// BankID is the bank of a consent request's consent, or of one
	// created at /my/consents/{sca_method} (the path names it at
	// /banks/{bank_id}/my/consents/{sca_method}).
	BankID string `json:"bank_id,omitempty"`
	// AccountAccess names accounts at the path's bank; Views (OBP's older
	// form) accounts at any bank.
	AccountAccess []AccountAccess `json:"account_access,omitempty"`
	Views         []View          `json:"views,omitempty"`
	Entitlements  []Entitlement   `json:"entitlements,omitempty"`
	// ConsumerID is the consumer the consent is for; the one the customer
	// logged in through when empty.
	ConsumerID  string `json:"consumer_id,omitempty"`
	PhoneNumber string `json:"phone_number,omitempty"`
	Email       string `json:"email,omitempty"`
	// ValidFrom is when the consent starts (RFC 3339; now when empty);
	// TimeToLive how long it lasts from then, in seconds.
	ValidFrom  string `json:"valid_from,omitempty"`
	TimeToLive *int64 `json:"time_to_live,omitempty"`
}

// AccountAccess is one account at the path's bank and the view granted.
type AccountAccess struct {
	AccountID string `json:"account_id"`
	ViewID    string `json:"view_id"`
}

// View is one account at a bank and the view granted.
type View struct {
	BankID    string `json:"bank_id"`
	AccountID string `json:"account_id"`
	ViewID    string `json:"view_id"`
}

// Entitlement is one role to delegate, at a bank ("" for a system role).
type Entitlement struct {
	BankID   string `json:"bank_id"`
	RoleName string `json:"role_name"`
}

// The SCA methods of OBP's create-consent paths.
const (
	MethodSMS      = "SMS"
	MethodEmail    = "EMAIL"
	MethodImplicit = "IMPLICIT"
)

// maxID bounds an id or name in the body; maxContact a phone number or
// email address.
const (
	maxID      = 128
	maxContact = 254
)

// terms are a body's checked shape: what the consent asks, before it is
// checked against the customer.
type terms struct {
	// views are the accounts named, pointers where the body names each.
	views        []View
	pointers     []string
	entitlements []Entitlement
	everything   bool
	validFrom    time.Time
	ttl          time.Duration
	channel      string
}

// check checks the shape of b for a consent at bankID by scaMethod at
// now, each fault a violation, and returns its terms.
func (s *Service) check(b *Body, bankID, scaMethod string, now time.Time) (*terms, error) {
	var faults []engine.Violation
	fault := func(pointer, code, msg string) {
		faults = append(faults, engine.Violation{Location: "body", Pointer: pointer, Code: code, Message: msg})
	}
	t := &terms{everything: b.Everything, validFrom: now, ttl: DefaultTTL}
	switch scaMethod {
	case MethodSMS:
		t.channel = "sms"
		if b.PhoneNumber == "" {
			fault("/phone_number", "required", "SMS consents name the phone_number the code goes to")
		}
	case MethodEmail:
		t.channel = "email"
		if !strings.Contains(b.Email, "@") {
			fault("/email", "required", "EMAIL consents name the email the code goes to")
		}
	case MethodImplicit:
		t.channel = "sms" // the customer's default channel
	default:
		return nil, engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed, "the SCA method is SMS, EMAIL or IMPLICIT",
			engine.Violation{Location: "path", Pointer: "/sca_method", Code: "enum", Message: "one of SMS, EMAIL, IMPLICIT"})
	}
	if len(b.PhoneNumber) > maxContact || len(b.Email) > maxContact {
		fault("/phone_number", "max_length", fmt.Sprintf("at most %d characters", maxContact))
	}
	if n := len(b.AccountAccess) + len(b.Views); n > maxViews {
		fault("/views", "max_items", fmt.Sprintf("at most %d accounts", maxViews))
	}
	if len(b.Entitlements) > maxEntitlements {
		fault("/entitlements", "max_items", fmt.Sprintf("at most %d entitlements", maxEntitlements))
	}
	if len(faults) > 0 {
		return nil, invalid(faults)
	}
	for i, a := range b.AccountAccess {
		t.views = append(t.views, View{BankID: bankID, AccountID: a.AccountID, ViewID: a.ViewID})
		t.pointers = append(t.pointers, "/account_access/"+strconv.Itoa(i))
		checkView(fault, t.pointers[len(t.pointers)-1], t.views[len(t.views)-1])
	}
	for i, v := range b.Views {
		t.views = append(t.views, v)
		t.pointers = append(t.pointers, "/views/"+strconv.Itoa(i))
		checkView(fault, t.pointers[len(t.pointers)-1], v)
	}
	for i, e := range b.Entitlements {
		if e.RoleName == "" || len(e.RoleName) > maxID || len(e.BankID) > maxID {
			fault("/entitlements/"+strconv.Itoa(i)+"/role_name", "required", "a role name")
		}
	}
	t.entitlements = b.Entitlements
	if !b.Everything && len(t.views) == 0 && len(t.entitlements) == 0 {
		fault("/account_access", "required", "a consent names accounts, entitlements, or everything")
	}
	if b.ValidFrom != "" {
		from, err := time.Parse(time.RFC3339, b.ValidFrom)
		switch {
		case err != nil:
			fault("/valid_from", "format", "an RFC 3339 date-time")
		case from.After(now.Add(s.o.MaxTTL)):
			fault("/valid_from", "maximum", "at most "+s.o.MaxTTL.String()+" from now")
		case from.After(now):
			t.validFrom = from.UTC().Truncate(time.Second)
		}
	}
	if b.TimeToLive != nil {
		ttl := *b.TimeToLive
		if ttl < 1 || ttl > int64(s.o.MaxTTL/time.Second) {
			fault("/time_to_live", "range", fmt.Sprintf("whole seconds from 1 to %d", int64(s.o.MaxTTL/time.Second)))
		}
		t.ttl = time.Duration(ttl) * time.Second
	}
	if len(faults) > 0 {
		return nil, invalid(faults)
	}
	return t, nil
}

// checkView checks one account a body names, at pointer.
func checkView(fault func(pointer, code, msg string), pointer string, v View) {
	if v.BankID == "" || v.AccountID == "" || len(v.BankID) > maxID || len(v.AccountID) > maxID {
		fault(pointer+"/account_id", "required", "an account id (and bank id) of at most 128 characters")
	}
	if v.ViewID == "" || len(v.ViewID) > maxID {
		fault(pointer+"/view_id", "required", "a view id such as owner")
	}
}

// invalid is the 400 for faults of a body.
func invalid(faults []engine.Violation) *engine.Error {
	msg := "the consent is not acceptable: " + faults[0].Message
	if len(faults) > 1 {
		msg += " (and more; see violations)"
	}
	return engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed, msg, faults...)
}
