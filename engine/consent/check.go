package consent

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/metrics"
	"github.com/dynapi/dynapi/specs"
)

// Codes of the consent check's refusals (engine.Error.Code), beside
// CodeConsentUnknown (403 here: the token names a consent that is gone)
// and CodeConsentNotYours (403: another TPP's, or another customer's).
const (
	// CodeConsentMissing: the operation is called under a consent, and the
	// caller's token is bound to none (a client-credentials token) (403).
	CodeConsentMissing = "consent_missing"
	// CodeConsentNotAuthorised: the consent awaits authorisation or was
	// rejected (403).
	CodeConsentNotAuthorised = "consent_not_authorised"
	// CodeConsentRevoked: the consent was revoked (401).
	CodeConsentRevoked = "consent_revoked"
	// CodeConsentExpired: the consent's expiry has passed (401).
	CodeConsentExpired = "consent_expired"
	// CodeConsentPermissionMissing: the consent grants none of the
	// permissions the operation needs (403).
	CodeConsentPermissionMissing = "consent_permission_missing"
	// CodeConsentAccountOutOfScope: the account the call reads is not one
	// of the consent's (403).
	CodeConsentAccountOutOfScope = "consent_account_out_of_scope"
)

// The rules of the consent check, in the order they are checked; a
// Decision names the first one broken.
const (
	RuleBound      = "token_bound_to_consent"
	RuleExists     = "consent_exists"
	RuleTPP        = "consent_of_caller"
	RuleAuthorised = "consent_authorised"
	RuleNotExpired = "consent_not_expired"
	RuleCustomer   = "consent_of_customer"
	RulePermission = "permission_granted"
	RuleAccount    = "account_in_consent"
)

// checkKinds are the profile's error kinds (Profile.ErrorCodes) of the
// check's refusals.
var checkKinds = map[string]string{
	CodeConsentMissing:           "reauthenticate",
	CodeConsentNotAuthorised:     "invalid_consent_status",
	CodeConsentRevoked:           "invalid_consent_status",
	CodeConsentExpired:           "invalid_consent_status",
	CodeConsentConsumed:          "invalid_consent_status",
	CodeConsentPermissionMissing: "consent_out_of_scope",
	CodeConsentAccountOutOfScope: "consent_out_of_scope",
}

// Check is the policy (engine.Policy) of one operation a profile binds to
// use: every call must be made under a consent that exists, is authorised
// and not expired, belongs to the calling TPP and customer, grants one of
// the operation's permissions (when it names any: payments and funds
// confirmations name none) and, when the operation reads one account,
// holds that account. An allowed call carries the consent (Call.Consent).
// It reads the store only on a consent's first use (Service.lookup).
type Check struct {
	svc      *Service
	profiles profileFinder
	kind     string
	op       string
	anyOf    []string
	// account is the position of the path parameter accountParam naming
	// the account, -1 when the operation reads no single account.
	account      int
	accountParam string
	// replays lets calls under a consumed consent through, for the
	// payment to play back its first answer (ActionPay).
	replays bool
	// decisions records each call's decision; nil records nothing.
	decisions *metrics.ConsentDecisions
}

// Decision is what the check decided for one call.
type Decision struct {
	// Rule is the first rule the call broke, "" when it is allowed.
	Rule string
	// Err is the refusal, nil when the call is allowed.
	Err *engine.Error
	// Grant is the consent the call is allowed under.
	Grant *engine.ConsentGrant
	// Missing are the permissions, one of which the operation needs, when
	// the consent grants none (shared: never change them); Account the
	// account the call reads.
	Missing []string
	Account string
}

// Allow implements engine.Policy.
func (k *Check) Allow(ctx context.Context, call *engine.Call) error {
	d, err := k.Decide(ctx, call.Principal, call.BankID, call.Path)
	if err != nil {
		return err
	}
	if d.Err != nil {
		k.decisions.Refused(d.Err.Code)
		return d.Err
	}
	k.decisions.Allowed()
	call.Consent = d.Grant
	return nil
}

// OperationID is the operation the check guards.
func (k *Check) OperationID() string { return k.op }

// Decide decides a call by p at bankID with path values path; err is a
// failure to decide (the store), not a refusal.
func (k *Check) Decide(ctx context.Context, p *engine.Principal, bankID string, path engine.PathValues) (Decision, error) {
	if p == nil || p.ConsentID == "" {
		return refuse(RuleBound, http.StatusForbidden, CodeConsentMissing, "/",
			"operation "+k.op+" is called under a consent a customer granted; this token is bound to none"), nil
	}
	id := p.ConsentID
	g, err := k.svc.lookup(ctx, id, k.profiles)
	switch {
	case notFound(err):
		return refuse(RuleExists, http.StatusForbidden, CodeConsentUnknown, "/Data/ConsentId", "no consent "+id+" here"), nil
	case err != nil:
		return Decision{}, err
	case g.status == Deleted || g.kind != k.kind || g.bankID != bankID:
		return refuse(RuleExists, http.StatusForbidden, CodeConsentUnknown, "/Data/ConsentId", "no consent "+id+" here"), nil
	case g.consumerID != p.ConsumerID:
		return refuse(RuleTPP, http.StatusForbidden, CodeConsentNotYours, "/", "consent "+id+" belongs to another TPP"), nil
	}
	code := Unusable(g.status, g.expiresAt, k.svc.now())
	if code == CodeConsentNotAuthorised && g.status == Consumed && k.replays {
		code = "" // a payment under it is answered again
	}
	switch code {
	case CodeConsentRevoked:
		return refuse(RuleAuthorised, http.StatusUnauthorized, code, "/Data/Status", "consent "+id+" was revoked"), nil
	case CodeConsentExpired:
		return refuse(RuleNotExpired, http.StatusUnauthorized, code, "/Data/ExpirationDateTime",
			"consent "+id+" expired at "+stamp(g.expiresAt)), nil
	case CodeConsentNotAuthorised:
		return refuse(RuleAuthorised, http.StatusForbidden, code, "/Data/Status",
			"consent "+id+" is "+string(g.status)+", not authorised"), nil
	}
	if g.userID != p.UserID {
		return refuse(RuleCustomer, http.StatusForbidden, CodeConsentNotYours, "/", "consent "+id+" was authorised by another customer"), nil
	}
	if len(k.anyOf) > 0 && !slices.ContainsFunc(k.anyOf, func(perm string) bool { _, ok := g.permissions[perm]; return ok }) {
		d := refuse(RulePermission, http.StatusForbidden, CodeConsentPermissionMissing, "/Data/Permissions",
			"consent "+id+" does not grant operation "+k.op+": it needs one of "+strings.Join(k.anyOf, ", ")+
				"; the consent grants "+strings.Join(g.grant.Permissions, ", "))
		d.Missing = k.anyOf
		return d, nil
	}
	if k.account < 0 {
		return Decision{Grant: g.grant}, nil
	}
	account := ""
	if path != nil && k.account < path.Len() {
		account = path.Value(k.account)
	}
	if _, ok := g.accounts[account]; !ok {
		d := refuse(RuleAccount, http.StatusForbidden, CodeConsentAccountOutOfScope, "/"+k.accountParam,
			"account "+account+" is not one of the accounts of consent "+id)
		d.Account = account
		return d, nil
	}
	return Decision{Grant: g.grant, Account: account}, nil
}

// Unusable is why a consent with status, expiring at expiresAt (zero:
// never), cannot be used at now: CodeConsentRevoked, CodeConsentExpired or
// CodeConsentNotAuthorised, decided in that order; "" when it can. Every
// kind of call under a consent (UK, Berlin Group, OBP) decides by it.
func Unusable(status Status, expiresAt, now time.Time) string {
	switch {
	case status == Revoked:
		return CodeConsentRevoked
	case status == Expired || status == Authorised && !expiresAt.IsZero() && !now.Before(expiresAt):
		return CodeConsentExpired
	case status != Authorised:
		return CodeConsentNotAuthorised
	}
	return ""
}

// refuse is the Decision that a call broke rule, refused with status and
// code, the fault at pointer (in the consent, or the path's account).
func refuse(rule string, status int, code, pointer, msg string) Decision {
	return Decision{Rule: rule, Err: engine.NewError(status, code, msg,
		engine.Violation{Location: "consent", Pointer: pointer, Code: code, Message: msg})}
}

// newCheck is the check of op, bound to use by bind in profile p.
func (b *Binder) newCheck(p *Profile, bind Binding, op *specs.Operation) *Check {
	k := &Check{svc: b.Service, profiles: b.Profiles, kind: p.Kind, op: op.ID, anyOf: bind.AnyOf, account: -1,
		accountParam: bind.AccountParam, replays: bind.Action == ActionPay, decisions: b.Decisions}
	if bind.AccountParam != "" {
		k.account = pathIndex(op, bind.AccountParam) // Bind refused a document without it
	}
	return k
}

// pathIndex is the position of op's path parameter name, -1 when op has
// none.
func pathIndex(op *specs.Operation, name string) int { return op.PathParamIndex(name) }
