package consentauth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/banking"
	"github.com/dynapi/dynapi/engine/consent"
	"github.com/dynapi/dynapi/internal/kvjson"
)

// maxAccountID bounds an account id a customer picks; maxAnswer an answer.
const (
	maxAccountID = 128
	maxAnswer    = 16
)

// ChooseAccounts records the accounts the customer picked (at least one,
// each one of the customer's shareable accounts, checked again here) and
// sends a one-time code for them by sendScaChallenge: 6 digits, valid
// ChallengeLifetime, replacing any code sent before. The answer carries
// the code only with Options.DevCodes.
func (s *Service) ChooseAccounts(ctx context.Context, id string, c Caller, accounts []string) (*Authorisation, error) {
	picked, err := s.checkAccounts(ctx, id, c, accounts)
	if err != nil {
		return nil, err
	}
	access, err := s.berlinPicked(ctx, id, c, picked)
	if err != nil {
		return nil, err
	}
	code, err := sixDigits()
	if err != nil {
		return nil, engine.Internal(err)
	}
	var permissions []string
	if con, err := s.o.Consents.Get(ctx, s.consentOf(ctx, id, c)); err == nil {
		permissions = con.Permissions
	}
	ss, err := s.change(ctx, id, c, func(_ engine.Tx, ss *session) error {
		if ss.Status != StatusPSUAuthenticated && ss.Status != StatusStarted {
			return stateError(ss, "choosing accounts")
		}
		if ss.Challenges >= MaxChallenges {
			return engine.Errorf(http.StatusTooManyRequests, CodeTooManyChallenges, "at most %d codes are sent per authorisation", MaxChallenges)
		}
		ss.Accounts, ss.Access, ss.Status, ss.Challenges = picked, access, StatusStarted, ss.Challenges+1
		ss.Challenge = hex.EncodeToString(s.challengeMAC(ss, permissions, code))
		ss.ChallengeExpires = s.now().Add(ChallengeLifetime)
		return nil
	})
	if err != nil {
		return nil, err
	}
	view, err := s.view(ctx, ss, true)
	if err != nil {
		return nil, err
	}
	what := "see your accounts"
	if p := view.Consent.Payment; p != nil {
		what = strings.ToLower(p.Text[:1]) + p.Text[1:]
	}
	text := fmt.Sprintf("%s is your code to let %s %s. It expires in %d minutes. Never share it.",
		code, view.Consent.TPPName, what, int(ChallengeLifetime.Minutes()))
	if _, err := s.o.Methods.Call(ctx, &engine.Call{OperationID: banking.SendScaChallenge,
		Principal: &engine.Principal{UserID: ss.UserID, Method: "consent_authorisation"}},
		banking.SendScaChallenge, "", ss.UserID, ss.Request.ConsentID, "sms", code, text); err != nil {
		return nil, engine.AsError(err)
	}
	if s.o.DevCodes {
		view.Code = code
	}
	return view, nil
}

// consentOf is the consent authorisation id is for ("" when it cannot be
// read; the change that follows refuses it then).
func (s *Service) consentOf(ctx context.Context, id string, c Caller) string {
	if ss, err := s.read(ctx, id, c); err == nil {
		return ss.Request.ConsentID
	}
	return ""
}

// checkAccounts checks the picked accounts against those offered to the
// customer (consent.ChooseAccounts): every one that is not is named;
// duplicates count once; a payment or funds confirmation consent takes
// exactly one.
func (s *Service) checkAccounts(ctx context.Context, id string, c Caller, accounts []string) ([]string, error) {
	a, err := s.Get(ctx, id, c)
	if err != nil {
		return nil, err
	}
	if a.ScaStatus != StatusPSUAuthenticated && a.ScaStatus != StatusStarted {
		return nil, engine.Errorf(http.StatusConflict, CodeAuthorisationState, "the authorisation is %s: choosing accounts is not possible now", a.ScaStatus)
	}
	picked, err := consent.ChooseAccounts(accounts, func(id string) bool {
		return len(id) <= maxAccountID && slices.ContainsFunc(a.Accounts, func(acc banking.Account) bool { return acc.AccountID == id })
	})
	if err == nil && a.Consent.Payment != nil && len(picked) != 1 {
		return nil, engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed, "a payment consent is authorised for exactly one account",
			engine.Violation{Location: "body", Pointer: "/accounts", Code: "count", Message: "choose exactly one account"})
	}
	return picked, err
}

// sixDigits is a uniformly random 6-digit code.
func sixDigits() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

// challengeMAC binds code to the authorisation, the consent, the customer
// and what the customer was shown (the accounts picked and the
// permissions): HMAC(secret, id|consent|user|sha256(accounts, permissions)|code).
func (s *Service) challengeMAC(ss *session, permissions []string, code string) []byte {
	shown := sha256.Sum256([]byte(strings.Join(ss.Accounts, "\x00") + "\x01" + strings.Join(permissions, "\x00")))
	return s.mac(ss.ID, ss.Request.ConsentID, ss.UserID, hex.EncodeToString(shown[:]), code)
}

// Answer checks the customer's answer to the one-time code in force. A
// wrong answer counts; the MaxWrongAnswers-th fails the authorisation and
// rejects the consent. A right answer authorises the consent for the
// accounts picked, consumes the code, finalises the authorisation and
// issues an authorization code (the answer's RedirectURI carries it to the
// client), all in one transaction: a crash leaves either all of it or
// none, and of two right answers at once only one authorises (the other
// finds the consent authorised, a 409).
func (s *Service) Answer(ctx context.Context, id string, c Caller, answer string) (*Authorisation, error) {
	if answer == "" || len(answer) > maxAnswer {
		return nil, engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed, "the answer is the code you were sent",
			engine.Violation{Location: "body", Pointer: "/answer", Code: "length", Message: "the code you were sent"})
	}
	con, err := s.o.Consents.Get(ctx, s.consentOf(ctx, id, c))
	if err != nil {
		return nil, notFound()
	}
	right, failed := false, false
	ss, err := s.keepOnError(ctx, id, c, func(ss *session) error {
		if ss.Status != StatusStarted || ss.Challenge == "" {
			return stateError(ss, "answering a code")
		}
		if !s.now().Before(ss.ChallengeExpires) {
			return engine.NewError(http.StatusBadRequest, CodeCodeExpired, "the code expired: ask for a new one")
		}
		want, _ := hex.DecodeString(ss.Challenge)
		if hmac.Equal(s.challengeMAC(ss, con.Permissions, answer), want) {
			right = true // acted on below, with the consent's authorisation
			return nil
		}
		ss.WrongAnswers++
		if ss.WrongAnswers >= MaxWrongAnswers {
			failed = true
			s.fail(ss, "the code was entered wrongly too often")
			return engine.Errorf(http.StatusBadRequest, CodeWrongCode, "wrong code, %d times: the consent is rejected", MaxWrongAnswers)
		}
		return engine.Errorf(http.StatusBadRequest, CodeWrongCode, "wrong code: %d attempts left", MaxWrongAnswers-ss.WrongAnswers)
	})
	if failed {
		if _, rerr := s.o.Consents.Reject(ctx, ss.Request.ConsentID, "", "sca_failed", c.actor(ss)); rerr != nil && !isStatusConflict(rerr) {
			return nil, rerr
		}
	}
	if err != nil || !right {
		return nil, err
	}
	finished, err := s.finalise(ctx, ss, c)
	if err != nil {
		if isStatusConflict(err) {
			// The consent left awaiting authorisation meanwhile (revoked,
			// expired, or authorised by another answer): this
			// authorisation cannot finish.
			_, _ = s.change(ctx, id, c, func(_ engine.Tx, cur *session) error {
				if cur.Status == StatusStarted {
					s.fail(cur, "the consent can no longer be authorised")
				}
				return nil
			})
		}
		return nil, err
	}
	return s.view(ctx, finished, false)
}

// finalise authorises the consent of ss, whose challenge was just answered
// rightly, and in the same transaction consumes that challenge, finalises
// the authorisation and stores a new authorization code with the
// redirect to the client; for the hybrid response type the redirect
// carries an ID token for the code and state too.
func (s *Service) finalise(ctx context.Context, ss *session, c Caller) (*session, error) {
	code := random32()
	rec := issuedCode{Request: ss.Request, UserID: ss.UserID, AuthTime: ss.AuthTime, ExpiresAt: s.now().Add(CodeLifetime)}
	params := url.Values{"code": {code}}
	if ss.Request.ResponseType == ResponseCodeIDToken {
		hashes := map[string]any{"c_hash": leftHalfHash(code)}
		if ss.Request.State != "" {
			hashes["s_hash"] = leftHalfHash(ss.Request.State)
		}
		tok, err := s.idToken(&rec, hashes)
		if err != nil {
			return nil, engine.Internal(err)
		}
		params.Set("id_token", tok)
	}
	var out *session
	_, err := s.o.Consents.AuthoriseAccess(ctx, ss.Request.ConsentID, ss.UserID, ss.Accounts, ss.Access, c.actor(ss), func(tx engine.Tx) error {
		cur, err := s.load(tx, ss.ID, c)
		if err != nil {
			return err
		}
		if cur.Status != StatusStarted || cur.Challenge != ss.Challenge {
			// Another answer, a new code or the end of the session came
			// first.
			return stateError(cur, "answering a code")
		}
		cur.Challenge, cur.Status = "", StatusFinalised
		cur.Redirect = s.redirect(cur, params)
		if cur.Request.Berlin {
			// Berlin Group TPPs poll the consent's status: no code.
			out = cur
			return s.putSession(tx, cur)
		}
		if err := kvjson.Put(tx, bucketCodes, hashHex(code), rec); err != nil {
			return err
		}
		out = cur
		return s.putSession(tx, cur)
	})
	return out, err
}

// leftHalfHash is the left half of the SHA-256 of v, base64url: an ID
// token's c_hash and s_hash for ES256 (OpenID Connect 3.3.2.11).
func leftHalfHash(v string) string {
	h := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(h[:len(h)/2])
}
