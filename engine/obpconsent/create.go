package obpconsent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/banking"
	"github.com/dynapi/dynapi/engine/consent"
	"github.com/dynapi/dynapi/engine/consentauth"
	"github.com/dynapi/dynapi/internal/kvjson"
)

// Error codes of the creation (engine.Error.Code).
const (
	// CodeNotDelegable: the body names roles no consent may delegate
	// (400); each is a violation.
	CodeNotDelegable = "entitlement_not_delegable"
	// CodeNotHeld: the body names roles the customer does not have, or
	// accounts they may not share (400); each is a violation.
	CodeNotHeld = "consent_not_held"
)

// Created is OBP's answer about a consent (ConsentJsonV310): its id, its
// Consent-JWT and its status in OBP's words.
type Created struct {
	ConsentID string `json:"consent_id"`
	JWT       string `json:"jwt"`
	Status    string `json:"status"`
	// Code is the one-time code, only with Options.DevCodes.
	Code string `json:"code,omitempty"`
}

// Create creates a consent of the customer p (logged in) at bankID, to be
// accepted by the code sent by scaMethod, from body b (raw as posted),
// for b's consumer or the one p logged in through. Every account must be
// one p may share, every role one p has now and may delegate; each that
// is not is named in the 400.
func (s *Service) Create(ctx context.Context, p *engine.Principal, who audit.Actor, bankID, scaMethod string,
	b *Body, raw []byte) (*Created, error) {
	consumerID := b.ConsumerID
	if consumerID == "" {
		consumerID = p.ConsumerID
	}
	return s.create(ctx, p, who, bankID, scaMethod, b, raw, consumerID, nil)
}

// create is Create for consumerID; with, when set, runs in the
// creation's transaction, given the consent.
func (s *Service) create(ctx context.Context, p *engine.Principal, who audit.Actor, bankID, scaMethod string,
	b *Body, raw []byte, consumerID string, with func(tx engine.Tx, c *consent.Consent) error) (*Created, error) {
	now := s.now()
	t, err := s.check(b, bankID, scaMethod, now)
	if err != nil {
		return nil, err
	}
	if err := s.throttle(ctx, p.UserID, now); err != nil {
		return nil, err
	}
	if con, err := s.o.Consumers.Consumer(ctx, consumerID); err != nil || !con.Enabled {
		return nil, engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed, "no enabled consumer "+consumerID,
			engine.Violation{Location: "body", Pointer: "/consumer_id", Code: "unknown", Message: "an enabled consumer's id"})
	}
	if err := s.delegable(t.entitlements); err != nil {
		return nil, err
	}
	views, err := s.held(ctx, p, bankID, t)
	if err != nil {
		return nil, err
	}
	c := &consent.Consent{ID: consent.NewID(), Kind: consent.KindOBP, ProfileID: consent.ProfileOBP, BankID: bankID,
		ConsumerID: consumerID, UserID: p.UserID, Permissions: []string{}, Views: views, Request: raw}
	for _, e := range t.entitlements {
		c.Entitlements = append(c.Entitlements, engine.DelegatedRole{BankID: e.BankID, RoleName: e.RoleName})
	}
	for _, v := range views {
		c.Accounts = append(c.Accounts, v.AccountID)
	}
	from, expires := t.validFrom, t.validFrom.Add(t.ttl)
	c.ValidFrom, c.ExpiresAt = &from, &expires
	jwt, err := s.sign(c)
	if err != nil {
		return nil, engine.Internal(err)
	}
	c.JWTDigests = []string{digest(jwt)}
	code, err := consentauth.OneTimeCode()
	if err != nil {
		return nil, engine.Internal(err)
	}
	keep := func(tx engine.Tx) error {
		if with != nil {
			if err := with(tx, c); err != nil {
				return err
			}
		}
		return kvjson.Put(tx, bucketChallenges, c.ID, &challenge{MAC: hex.EncodeToString(s.bind(c, code)),
			ExpiresAt: now.Add(ChallengeLifetime)})
	}
	if err := s.o.Consents.Create(ctx, c, who, keep); err != nil {
		return nil, err
	}
	if err := s.send(ctx, c, t.channel, code); err != nil {
		return nil, err
	}
	out := &Created{ConsentID: c.ID, JWT: jwt, Status: StatusWord(c.Status)}
	if s.o.DevCodes {
		out.Code = code
	}
	return out, nil
}

// throttle refuses a consent to the customer userID who created
// MaxCodesPerLifetime of them within the last ChallengeLifetime: each
// sends a code. Two creations at once may both pass; the bound is what
// one customer can keep sending, not an exact count.
func (s *Service) throttle(ctx context.Context, userID string, now time.Time) error {
	recent, _, err := s.o.Consents.ListForUser(ctx, userID, "", "", MaxCodesPerLifetime)
	if err != nil {
		return err
	}
	n := 0
	for _, c := range recent {
		if c.Kind == consent.KindOBP && now.Sub(c.CreatedAt) < ChallengeLifetime {
			n++
		}
	}
	if n >= MaxCodesPerLifetime {
		return engine.Errorf(http.StatusTooManyRequests, consentauth.CodeTooManyChallenges,
			"at most %d consents, each with its code, per %d minutes", MaxCodesPerLifetime, int(ChallengeLifetime.Minutes()))
	}
	return nil
}

// delegable refuses roles no consent may delegate, naming each.
func (s *Service) delegable(entitlements []Entitlement) error {
	var faults []engine.Violation
	var names []string
	for i, e := range entitlements {
		if NotDelegable(e.RoleName) {
			names = append(names, e.RoleName)
			faults = append(faults, engine.Violation{Location: "body", Pointer: "/entitlements/" + strconv.Itoa(i) + "/role_name",
				Code: CodeNotDelegable, Message: e.RoleName + " grants or manages access and cannot be delegated"})
		}
	}
	if len(faults) == 0 {
		return nil
	}
	return engine.NewError(http.StatusBadRequest, CodeNotDelegable,
		"these roles cannot be delegated by a consent: "+strings.Join(names, ", "), faults...)
}

// NotDelegable tells whether role may never be delegated by a consent: a
// role that grants entitlements or manages users, consumers, roles or
// consents (by its name: Can*Entitlement*, *User*, *Consumer*, *Role*,
// *Consent*), so a consent can never be turned into more access.
func NotDelegable(role string) bool {
	for _, part := range []string{"Entitlement", "User", "Consumer", "Role", "Consent"} {
		if strings.Contains(role, part) {
			return true
		}
	}
	return false
}

// held checks every account of t is one p may share and every role one
// p has now (a role at its bank, a system role system wide), naming each
// that is not; it returns the accounts, every shareable one at bankID
// for everything, without repeats.
func (s *Service) held(ctx context.Context, p *engine.Principal, bankID string, t *terms) ([]engine.DelegatedAccount, error) {
	shareable, err := banking.ShareableAccounts(ctx, s.o.Methods, p)
	if err != nil {
		return nil, err
	}
	var faults []engine.Violation
	var out []engine.DelegatedAccount
	add := func(a engine.DelegatedAccount) {
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	if t.everything {
		for _, acc := range shareable {
			if acc.BankID == bankID {
				add(engine.DelegatedAccount{BankID: bankID, AccountID: acc.AccountID, ViewID: "owner"})
			}
		}
	}
	for i, v := range t.views {
		if !slices.ContainsFunc(shareable, func(acc banking.Account) bool { return acc.BankID == v.BankID && acc.AccountID == v.AccountID }) {
			faults = append(faults, engine.Violation{Location: "body", Pointer: t.pointers[i] + "/account_id", Code: consent.CodeAccountNotShareable,
				Message: "account " + v.AccountID + " at bank " + v.BankID + " is not one you may share"})
			continue
		}
		add(engine.DelegatedAccount{BankID: v.BankID, AccountID: v.AccountID, ViewID: v.ViewID})
	}
	for i, e := range t.entitlements {
		role, ok := s.o.Roles.Role(e.RoleName)
		pointer := "/entitlements/" + strconv.Itoa(i)
		switch {
		case !ok:
			faults = append(faults, engine.Violation{Location: "body", Pointer: pointer + "/role_name", Code: CodeNotHeld, Message: "no role " + e.RoleName})
		case role.RequiresBankID != (e.BankID != ""):
			faults = append(faults, engine.Violation{Location: "body", Pointer: pointer + "/bank_id", Code: CodeNotHeld,
				Message: e.RoleName + ": a bank role names its bank, a system role none"})
		case !s.o.Roles.HasAny(p.UserID, e.BankID, []string{e.RoleName}):
			faults = append(faults, engine.Violation{Location: "body", Pointer: pointer + "/role_name", Code: CodeNotHeld,
				Message: "you do not have " + e.RoleName + atBank(e.BankID)})
		}
	}
	if len(faults) > 0 {
		return nil, engine.NewError(http.StatusBadRequest, CodeNotHeld,
			"a consent delegates only accounts and roles you have: "+faults[0].Message, faults...)
	}
	return out, nil
}

// atBank words bankID for a message.
func atBank(bankID string) string {
	if bankID == "" {
		return " system wide"
	}
	return " at bank " + bankID
}

// sign is c's Consent-JWT.
func (s *Service) sign(c *consent.Consent) (string, error) {
	views := make([]map[string]string, len(c.Views))
	for i, v := range c.Views {
		views[i] = map[string]string{"bank_id": v.BankID, "account_id": v.AccountID, "view_id": v.ViewID}
	}
	entitlements := make([]map[string]string, len(c.Entitlements))
	for i, e := range c.Entitlements {
		entitlements[i] = map[string]string{"bank_id": e.BankID, "role_name": e.RoleName}
	}
	return s.o.Signer.SignConsentJWT(map[string]any{
		"createdByUserId": c.UserID, "sub": c.UserID, "aud": c.ConsumerID, "jti": c.ID,
		"nbf": c.ValidFrom.Unix(), "exp": c.ExpiresAt.Unix(), "entitlements": entitlements, "views": views,
	})
}

// digest is the SHA-256 of a Consent-JWT, in hex: all that is stored of it.
func digest(jwt string) string {
	sum := sha256.Sum256([]byte(jwt))
	return hex.EncodeToString(sum[:])
}
