package consent

import (
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/metrics"
	"github.com/dynapi/dynapi/specs"
)

// Codes of consent errors (engine.Error.Code).
const (
	// CodeInvalidProfile: a consent profile is not valid, or a document
	// names one that does not exist or does not fit it (400).
	CodeInvalidProfile = "invalid_consent_profile"
	// CodeConsentUnknown: no consent has the id, or it was deleted (400,
	// as the UK standard answers unknown ids).
	CodeConsentUnknown = "consent_unknown"
	// CodeConsentNotYours: the consent belongs to another TPP (403).
	CodeConsentNotYours = "consent_not_yours"
	// CodeConsentRule: the consent request breaks a rule of its profile
	// (400).
	CodeConsentRule = "consent_rule"
	// CodeConsentMissingTPP: the caller acts for no consumer, so there is
	// no TPP to own the consent (403).
	CodeConsentMissingTPP = "consent_missing_tpp"
	// CodeConsentStatus: the consent's status does not allow the change
	// (409).
	CodeConsentStatus = "consent_status"
)

// Where a document's profile was chosen (DocBinding.Source).
const (
	SourceAuto     = "auto"     // the document fits the profile's Match
	SourceDocument = "document" // x-dynapi-consent-profile
	SourceQuery    = "query"    // ?consent_profile= at submission
)

// NoProfile, as a choice, binds no profile even where one fits.
const NoProfile = "none"

// Binder binds submitted documents to consent profiles and makes the
// invokers of the operations the engine answers.
type Binder struct {
	// Profiles are the profiles in force; each Bind reads them as they are
	// then.
	Profiles *Registry
	Service  *Service
	// Berlin runs the authorisations of Berlin Group consents; set before
	// the engine serves (nil: those answer 501).
	Berlin BerlinAuthoriser
	// UsageZone is the time zone whose days count the calls made without
	// the customer (Berlin Group frequencyPerDay); nil: UTC.
	UsageZone *time.Location
	// Core is the banking core payments and funds confirmations under a
	// consent reach; nil answers them 501.
	Core Core
	// Notifications decides which TPP-Notification-URIs are kept; nil
	// keeps none.
	Notifications NotificationPolicy
	// Decisions records the consent checks' decisions; nil records
	// nothing.
	Decisions *metrics.ConsentDecisions
}

// DocBinding is how one document is bound to its profile.
type DocBinding struct {
	Profile *Profile
	Source  string
	// Bound are the document's operations the profile binds; Unbound the
	// others; Missing the operations the profile binds that the document
	// lacks. All sorted.
	Bound, Unbound, Missing []string
}

// Bind picks doc's profile: choice (a profile id, NoProfile, or "" to let
// the document's x-dynapi-consent-profile, then Match, decide), else none
// (nil, nil). A profile named explicitly must exist and the document must
// hold the operations it creates, gets and deletes consents with, and, for
// a bank's own profile, every operation it names; otherwise the document
// is refused with the faults named.
func (b *Binder) Bind(doc *specs.Document, choice string) (*DocBinding, error) {
	source := SourceQuery
	if choice == "" {
		choice, source = doc.ConsentProfile, SourceDocument
	}
	if choice == NoProfile {
		return nil, nil
	}
	var p *Profile
	profiles := b.Profiles.Current()
	if choice == "" {
		for _, id := range profiles.order {
			if cand := profiles.byID[id]; cand.fits(doc) {
				p, source = cand, SourceAuto
				break
			}
		}
		if p == nil {
			return nil, nil
		}
	} else {
		var ok bool
		if p, ok = profiles.Get(choice); !ok {
			at := engine.Violation{Location: "query", Pointer: "/consent_profile", Code: "unknown",
				Message: "no consent profile " + choice + "; known: " + strings.Join(profiles.order, ", ")}
			if source == SourceDocument {
				at.Location, at.Pointer = "document", "/x-dynapi-consent-profile"
			}
			return nil, engine.NewError(http.StatusBadRequest, CodeInvalidProfile, "the document names an unknown consent profile", at)
		}
	}
	db := &DocBinding{Profile: p, Source: source}
	strict := !profiles.Builtin(p.ID)
	has := map[string]bool{}
	var faults []engine.Violation
	for _, op := range doc.Operations {
		has[op.ID] = true
		bind, ok := p.Operations[op.ID]
		if !ok {
			db.Unbound = append(db.Unbound, op.ID)
			continue
		}
		db.Bound = append(db.Bound, op.ID)
		if bind.AccountParam != "" && pathIndex(op, bind.AccountParam) < 0 {
			faults = append(faults, engine.Violation{Location: "document", Pointer: op.Pointer, Code: "missing_parameter",
				Message: "consent profile " + p.ID + " reads the account of operation " + op.ID + " from path parameter " +
					bind.AccountParam + ", which the operation lacks"})
		}
	}
	for _, id := range sortedKeys(p.Operations) {
		if has[id] {
			continue
		}
		db.Missing = append(db.Missing, id)
		// A bank's own profile is written for its document: every
		// operation it names must be there. A built-in profile fits
		// every version of its standard's document, some of which lack
		// some reads; only those it answers itself must be there.
		if a := p.Operations[id].Action; a != ActionUse || strict {
			faults = append(faults, engine.Violation{Location: "document", Pointer: "/paths", Code: "missing_operation",
				Message: "consent profile " + p.ID + " binds operation " + id + " (" + a + "), which the document lacks"})
		}
	}
	if len(faults) > 0 {
		return nil, engine.NewError(http.StatusBadRequest, CodeInvalidProfile,
			"the document does not fit its consent profile "+p.ID, faults...)
	}
	sort.Strings(db.Bound)
	sort.Strings(db.Unbound)
	return db, nil
}

// Uses tells whether the profile binds operation id to use, funds or pay:
// a call to it is made under a consent, which its Check decides on.
func (db *DocBinding) Uses(id string) bool {
	if db == nil {
		return false
	}
	a := db.Profile.Operations[id].Action
	return a == ActionUse || a == ActionFunds || a == ActionPay
}

// Hooks returns the hooks of op, an operation of a document bound by db:
// the Check of an operation bound to use, the filter of its list when it
// lists items of several accounts, and the recorder of its uses for the
// customer's dashboard; none for the others.
func (b *Binder) Hooks(db *DocBinding, op *specs.Operation) engine.Hooks {
	if !db.Uses(op.ID) {
		return engine.Hooks{}
	}
	bind := db.Profile.Operations[op.ID]
	var policy engine.Policy
	account := -1
	if db.Profile.Renderer == RendererBerlinGroup {
		check := b.newBerlinCheck(db.Profile, bind, op)
		policy, account = check, check.account
	} else {
		check := b.newCheck(db.Profile, bind, op)
		policy, account = check, check.account
	}
	h := engine.Hooks{Policies: []engine.Policy{policy}}
	if bind.Action != ActionUse {
		return h // answered by the engine, which reads the consent itself
	}
	if f := newItemsFilter(op.ID, bind); f != nil {
		h.Filters = []engine.ResponseFilter{f}
	}
	h.Filters = append(h.Filters, &useRecorder{svc: b.Service, op: op.ID, method: op.Method, path: op.Path, account: account})
	return h
}

// Invoker returns the engine's invoker of op, an operation of the document
// at endpointID (bankID its bank), when the profile binds op to create, get
// or delete (the consent), funds, pay, payment or payment-details; nil for
// every other
// operation, which the document's host answers.
func (b *Binder) Invoker(db *DocBinding, endpointID, bankID string, op *specs.Operation) engine.Invoker {
	if db == nil {
		return nil
	}
	bind, ok := db.Profile.Operations[op.ID]
	switch {
	case !ok || bind.Action == ActionUse:
		return nil
	case bind.Action == ActionFunds || bind.Action == ActionPay || bind.Action == ActionPayment || bind.Action == ActionPaymentDetails:
		return &payments{svc: b.Service, core: b.Core, profile: db.Profile, bind: bind, op: op}
	}
	r := &resource{svc: b.Service, profile: db.Profile, bind: bind, op: op, endpointID: endpointID, bankID: bankID}
	if db.Profile.Renderer == RendererBerlinGroup {
		return &berlinResource{resource: r, authoriser: func() BerlinAuthoriser { return b.Berlin }, notifications: b.Notifications}
	}
	return r
}

// Counted returns the invoker of op, an operation of a document bound by
// db, answered by inner: for an operation a Berlin Group profile binds to
// use, inner with the calls made without the customer counted against
// the consent's frequencyPerDay; inner itself for every other.
func (b *Binder) Counted(db *DocBinding, op *specs.Operation, inner engine.Invoker) engine.Invoker {
	if inner == nil || !db.Uses(op.ID) || db.Profile.Renderer != RendererBerlinGroup {
		return inner
	}
	zone := b.UsageZone
	if zone == nil {
		zone = time.UTC
	}
	account := -1
	if param := db.Profile.Operations[op.ID].AccountParam; param != "" {
		account = pathIndex(op, param)
	}
	return &countedInvoker{inner: inner, svc: b.Service, profiles: b.Profiles, op: op.ID, account: account, zone: zone}
}
