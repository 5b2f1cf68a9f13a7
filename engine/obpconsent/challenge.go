package obpconsent

import (
	"context"
	"crypto/hmac"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/banking"
	"github.com/dynapi/dynapi/engine/consent"
	"github.com/dynapi/dynapi/engine/consentauth"
	"github.com/dynapi/dynapi/internal/kvjson"
)

// bucketChallenges holds the code in force of each consent awaiting its
// answer: consent id -> challenge.
const bucketChallenges = "obp_consent_challenges"

// maxAnswer bounds an answer.
const maxAnswer = 16

// challenge is the one-time code of a consent, as stored: its HMAC only
// (bind), its expiry and the wrong answers so far.
type challenge struct {
	MAC       string    `json:"mac"`
	ExpiresAt time.Time `json:"expires_at"`
	Wrong     int       `json:"wrong"`
}

// bind is the HMAC of code bound to consent c and its customer.
func (s *Service) bind(c *consent.Consent, code string) []byte {
	return s.o.Codes.BindCode("obp-consent", c.ID, c.UserID, code)
}

// send sends code for consent c to its customer through sendScaChallenge,
// by channel.
func (s *Service) send(ctx context.Context, c *consent.Consent, channel, code string) error {
	name := c.ConsumerID
	if con, err := s.o.Consumers.Consumer(ctx, c.ConsumerID); err == nil {
		name = con.Name
	}
	text := fmt.Sprintf("%s is your code to let %s use your accounts. It expires in %d minutes. Never share it.",
		code, name, int(ChallengeLifetime.Minutes()))
	_, err := s.o.Methods.Call(ctx, &engine.Call{OperationID: banking.SendScaChallenge,
		Principal: &engine.Principal{UserID: c.UserID, Method: "obp_consent_challenge"}},
		banking.SendScaChallenge, "", c.UserID, c.ID, channel, code, text)
	if err != nil {
		return engine.AsError(err)
	}
	return nil
}

// Answer checks the customer p's answer to the code of their consent id
// at bankID ("" for any bank). A right answer accepts the consent and
// consumes the code in one transaction, and the answer carries a new
// Consent-JWT (the one of the creation stays good too). A wrong one
// counts; the MaxWrongAnswers-th rejects the consent. Another customer's
// consent, or one that is not OBP's, is a 404.
func (s *Service) Answer(ctx context.Context, p *engine.Principal, who audit.Actor, bankID, id, answer string) (*Created, error) {
	if answer == "" || len(answer) > maxAnswer {
		return nil, engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed, "the answer is the code you were sent",
			engine.Violation{Location: "body", Pointer: "/answer", Code: "length", Message: "the code you were sent"})
	}
	c, err := s.o.Consents.Get(ctx, id)
	if err != nil && !errors.Is(err, engine.ErrNotFound) {
		return nil, err
	}
	if err != nil || c.Kind != consent.KindOBP || !c.Visible() || c.UserID != p.UserID || bankID != "" && c.BankID != bankID {
		return nil, Unknown(id)
	}
	if c.Status != consent.AwaitingAuthorisation {
		return nil, notInitiated(c)
	}
	right, err := s.checkAnswer(ctx, c, answer, who)
	if !right {
		return nil, s.answeredMeanwhile(ctx, id, err)
	}
	jwt, err := s.sign(c)
	if err != nil {
		return nil, engine.Internal(err)
	}
	want := hex.EncodeToString(s.bind(c, answer))
	accepted, err := s.o.Consents.Accept(ctx, id, digest(jwt), who, func(tx engine.Tx) error {
		ch, err := kvjson.Get[challenge](tx, bucketChallenges, id)
		if err != nil || ch.MAC != want {
			// Another answer came first.
			return engine.NewError(http.StatusConflict, consent.CodeConsentStatus, "the code was answered already")
		}
		return tx.Delete(bucketChallenges, id)
	})
	if err != nil {
		return nil, err
	}
	return &Created{ConsentID: id, JWT: jwt, Status: StatusWord(accepted.Status)}, nil
}

// checkAnswer checks answer against the code in force for c: true when it is
// right; otherwise the refusal, the wrong answer counted (and, at the
// MaxWrongAnswers-th, the code gone and the consent rejected).
func (s *Service) checkAnswer(ctx context.Context, c *consent.Consent, answer string, who audit.Actor) (bool, error) {
	var refusal error
	right, failed := false, false
	err := s.o.Store.Update(ctx, func(tx engine.Tx) error {
		refusal, right, failed = nil, false, false
		ch, err := kvjson.Get[challenge](tx, bucketChallenges, c.ID)
		switch {
		case err != nil && !errors.Is(err, engine.ErrNotFound):
			return err
		case err != nil || !s.o.Now().Before(ch.ExpiresAt): // expired, and maybe swept
			refusal = engine.NewError(http.StatusBadRequest, consentauth.CodeCodeExpired, "the code expired: create the consent again")
			return nil
		}
		want, _ := hex.DecodeString(ch.MAC)
		if hmac.Equal(s.bind(c, answer), want) {
			right = true
			return nil
		}
		ch.Wrong++
		if ch.Wrong >= MaxWrongAnswers {
			failed = true
			refusal = engine.Errorf(http.StatusBadRequest, consentauth.CodeWrongCode, "wrong code, %d times: the consent is rejected", MaxWrongAnswers)
			return tx.Delete(bucketChallenges, c.ID)
		}
		refusal = engine.Errorf(http.StatusBadRequest, consentauth.CodeWrongCode, "wrong code: %d attempts left", MaxWrongAnswers-ch.Wrong)
		return kvjson.Put(tx, bucketChallenges, c.ID, ch)
	})
	if err != nil {
		return false, err
	}
	if failed {
		if _, err := s.o.Consents.Reject(ctx, c.ID, "", "sca_failed", who); err != nil && !isConflict(err) {
			return false, err
		}
	}
	return right, refusal
}

// answeredMeanwhile is refusal, unless the code is gone because another
// answer accepted (or rejected) consent id since it was read: then the
// 409 of a consent that no longer awaits a challenge, as when it is read
// after that answer.
func (s *Service) answeredMeanwhile(ctx context.Context, id string, refusal error) error {
	var e *engine.Error
	if !errors.As(refusal, &e) || e.Code != consentauth.CodeCodeExpired {
		return refusal
	}
	if c, err := s.o.Consents.Get(ctx, id); err == nil && c.Status != consent.AwaitingAuthorisation {
		return notInitiated(c)
	}
	return refusal
}

// Unknown is the 404 for a consent id that names no OBP consent of the
// caller's.
func Unknown(id string) *engine.Error {
	return engine.NewError(http.StatusNotFound, consent.CodeConsentUnknown, "no OBP consent "+id+" of yours")
}

// notInitiated is the 409 for a challenge answered to consent c, which
// no longer awaits one.
func notInitiated(c *consent.Consent) *engine.Error {
	return engine.Errorf(http.StatusConflict, consent.CodeConsentStatus, "consent %s is %s: only an INITIATED consent answers a challenge",
		c.ID, StatusWord(c.Status))
}

// isConflict tells whether err is a 409.
func isConflict(err error) bool {
	var e *engine.Error
	return errors.As(err, &e) && e.Status == http.StatusConflict
}
