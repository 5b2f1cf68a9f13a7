package identity

import (
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/viewtx"
	"github.com/dynapi/dynapi/internal/kvjson"
)

// consumerRecord is a consumer as stored, with its secret's SHA-256.
type consumerRecord struct {
	ID         string    `json:"consumer_id"`
	Key        string    `json:"consumer_key"`
	Name       string    `json:"name"`
	Enabled    bool      `json:"enabled"`
	CreatedBy  string    `json:"created_by_user_id,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	SecretHash string    `json:"secret_sha256"`
	// RedirectURIs are where the consumer's customers may be sent back to
	// after authorising a consent (exact match).
	RedirectURIs []string `json:"redirect_uris,omitempty"`
	// CallbackURLs are where the consumer receives event notifications
	// (exact match).
	CallbackURLs []string `json:"callback_urls,omitempty"`
	// AuthorizationPolicy is "" for PolicyPARPKCE; JWKS the public keys
	// of its request objects, as registered.
	AuthorizationPolicy string          `json:"authorization_policy,omitempty"`
	JWKS                json.RawMessage `json:"jwks,omitempty"`
}

// consumer is the record as returned: without its secret hash.
func (r *consumerRecord) consumer() *Consumer {
	return &Consumer{ID: r.ID, Key: r.Key, Name: r.Name, Enabled: r.Enabled, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt,
		RedirectURIs: r.RedirectURIs, CallbackURLs: r.CallbackURLs, AuthorizationPolicy: cmp.Or(r.AuthorizationPolicy, PolicyPARPKCE), JWKS: r.JWKS}
}

// entry is the record as kept in the in-memory view.
func (r *consumerRecord) entry() (*consumerEntry, error) {
	e := &consumerEntry{c: *r.consumer()}
	h, err := hex.DecodeString(r.SecretHash)
	if err != nil || len(h) != sha256.Size {
		return nil, fmt.Errorf("identity: consumer %s: malformed secret hash", r.ID)
	}
	copy(e.hash[:], h)
	return e, nil
}

// Bounds on configured consumer credentials. A secret is stored as a plain
// SHA-256, which is safe only for high-entropy secrets: hence the minimum.
const (
	maxConsumerKey  = 256
	minSecretLength = 32
	maxSecretLength = 1024
)

// validConsumerKey: 1 to 256 URL-safe characters [A-Za-z0-9._~-].
func validConsumerKey(k string) bool {
	if k == "" || len(k) > maxConsumerKey {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; !isLetter(c) && !isDigit(c) && c != '.' && c != '_' && c != '~' && c != '-' {
			return false
		}
	}
	return true
}

func validConsumerName(n string) []engine.Violation {
	if strings.TrimSpace(n) == "" || len(n) > 256 {
		return []engine.Violation{{Location: "body", Pointer: "/name", Code: "length",
			Message: "a consumer name is 1 to 256 characters"}}
	}
	return nil
}

func consumerNotFound(id string) error {
	return engine.Errorf(http.StatusNotFound, engine.CodeNotFound, "consumer %q not found", id)
}

// CreateConsumer registers an enabled client application created by
// a.UserID, with a random key and secret (32 random bytes each,
// base64url) and the redirect URIs given (see ValidateRedirectURIs). The
// secret is returned once and stored only as its SHA-256. Audit-logged as
// "consumer.create".
func (s *Service) CreateConsumer(ctx context.Context, a audit.Actor, name string, redirectURIs ...string) (c *Consumer, secret string, err error) {
	secret = randomToken()
	c, err = s.createConsumer(ctx, a, name, randomToken(), secret, redirectURIs)
	if err != nil {
		return nil, "", err
	}
	return c, secret, nil
}

// CreateConsumerWith is CreateConsumer with a given key (1 to 256
// characters of [A-Za-z0-9._~-], unique: 409 consumer_key_exists) and
// secret (32 to 1024 bytes), as configured for bootstrap.
func (s *Service) CreateConsumerWith(ctx context.Context, a audit.Actor, name, key, secret string) (*Consumer, error) {
	return s.createConsumer(ctx, a, name, key, secret, nil)
}

// createConsumer stores a new consumer in one transaction.
func (s *Service) createConsumer(ctx context.Context, a audit.Actor, name, key, secret string, redirectURIs []string) (*Consumer, error) {
	var out *Consumer
	err := s.w.Update(ctx, func(tx *viewtx.Tx) error {
		var err error
		out, err = s.createConsumerTx(tx, a, name, key, secret, redirectURIs)
		return err
	})
	return out, err
}

// consumerFaults lists what is wrong with a new consumer's name, key and
// secret (nil when nothing is).
func consumerFaults(name, key, secret string, redirectURIs []string) []engine.Violation {
	faults := append(validConsumerName(name), ValidateRedirectURIs(redirectURIs)...)
	if !validConsumerKey(key) {
		faults = append(faults, engine.Violation{Location: "body", Pointer: "/consumer_key", Code: "pattern",
			Message: "a consumer key is 1 to 256 characters of [A-Za-z0-9._~-]"})
	}
	if len(secret) < minSecretLength || len(secret) > maxSecretLength {
		faults = append(faults, engine.Violation{Location: "body", Pointer: "/consumer_secret", Code: "length",
			Message: fmt.Sprintf("a consumer secret is %d to %d characters", minSecretLength, maxSecretLength)})
	}
	return faults
}

func (s *Service) createConsumerTx(tx *viewtx.Tx, a audit.Actor, name, key, secret string, redirectURIs []string) (*Consumer, error) {
	if faults := consumerFaults(name, key, secret, redirectURIs); faults != nil {
		return nil, engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed, "the consumer cannot be created", faults...)
	}
	taken, err := kvjson.Exists(tx, bucketConsumersByKey, key)
	if err != nil {
		return nil, err
	}
	if taken {
		return nil, engine.NewError(http.StatusConflict, CodeConsumerKeyExists, "a consumer with this key exists already")
	}
	rec := &consumerRecord{ID: uuid.NewString(), Key: key, Name: name, Enabled: true, CreatedBy: a.UserID,
		CreatedAt: s.now().UTC(), SecretHash: sha256Hex(secret), RedirectURIs: slices.Clone(redirectURIs)}
	if err := s.putConsumerTx(tx, rec); err != nil {
		return nil, err
	}
	if err := tx.Put(bucketConsumersByKey, key, []byte(rec.ID)); err != nil {
		return nil, err
	}
	details := map[string]any{"name": name, "consumer_key": key}
	if len(redirectURIs) > 0 {
		details["redirect_uris"] = redirectURIs
	}
	err = s.audit.Append(tx, a, "consumer.create", rec.ID, "", details)
	return rec.consumer(), err
}

// Consumer returns the consumer with id, or a 404. SecretHash is never
// filled in by this or any other method.
func (s *Service) Consumer(ctx context.Context, id string) (*Consumer, error) {
	var out *Consumer
	err := s.w.View(ctx, func(tx engine.Tx) error {
		rec, err := kvjson.Get[consumerRecord](tx, bucketConsumers, id)
		if errors.Is(err, engine.ErrNotFound) {
			return consumerNotFound(id)
		}
		if err != nil {
			return err
		}
		out = rec.consumer()
		return nil
	})
	return out, err
}

// ConsumerByKey returns the enabled consumer with key from the in-memory
// view, without locks or allocation; a disabled or unknown key is (nil,
// false). The result is shared with every caller and must not be changed.
func (s *Service) ConsumerByKey(key string) (*Consumer, bool) {
	e, ok := (*s.consumers.Load())[key]
	if !ok || !e.c.Enabled {
		return nil, false
	}
	return &e.c, true
}

// dummySecretHash stands in for an unknown key so the check costs the
// same.
var dummySecretHash = sha256.Sum256([]byte("dynapi: no such consumer"))

// CheckConsumerSecret returns the enabled consumer whose key and secret
// these are. The secret's SHA-256 is compared in constant time, also for
// unknown keys (against a dummy), and an unknown key, a disabled consumer
// and a wrong secret are the same 401 "invalid client credentials".
func (s *Service) CheckConsumerSecret(key, secret string) (*Consumer, error) {
	e, ok := (*s.consumers.Load())[key]
	want := dummySecretHash
	if ok {
		want = e.hash
	}
	got := sha256.Sum256([]byte(secret))
	match := subtle.ConstantTimeCompare(got[:], want[:]) == 1
	if !ok || !match || !e.c.Enabled {
		return nil, engine.NewError(http.StatusUnauthorized, engine.CodeUnauthorized, "invalid client credentials")
	}
	c := e.c
	return &c, nil
}

// Consumers returns the consumers created by createdBy ("" for all),
// oldest first.
func (s *Service) Consumers(ctx context.Context, createdBy string) ([]*Consumer, error) {
	var out []*Consumer
	err := s.w.View(ctx, func(tx engine.Tx) error {
		out = nil
		return tx.Scan(bucketConsumers, "", func(_ string, v []byte) error {
			rec, err := kvjson.Decode[consumerRecord](v)
			if err != nil {
				return err
			}
			if createdBy == "" || rec.CreatedBy == createdBy {
				out = append(out, rec.consumer())
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b *Consumer) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// SetConsumerEnabled enables or disables a consumer; a disabled consumer's
// credentials are refused at once. Audit-logged as "consumer.enable" or
// "consumer.disable".
func (s *Service) SetConsumerEnabled(ctx context.Context, a audit.Actor, id string, enabled bool) (*Consumer, error) {
	var out *Consumer
	err := s.w.Update(ctx, func(tx *viewtx.Tx) error {
		rec, err := kvjson.Get[consumerRecord](tx, bucketConsumers, id)
		if errors.Is(err, engine.ErrNotFound) {
			return consumerNotFound(id)
		}
		if err != nil {
			return err
		}
		if err := s.setEnabledTx(tx, a, rec, enabled, ""); err != nil {
			return err
		}
		out = rec.consumer()
		return nil
	})
	return out, err
}

// setEnabledTx stores rec enabled or disabled, for the in-memory view at
// commit, audit-logged as "consumer.enable" or "consumer.disable" with the
// reason when there is one.
func (s *Service) setEnabledTx(tx *viewtx.Tx, a audit.Actor, rec *consumerRecord, enabled bool, reason string) error {
	rec.Enabled = enabled
	if err := s.putConsumerTx(tx, rec); err != nil {
		return err
	}
	action, details := "consumer.disable", map[string]any{"name": rec.Name}
	if enabled {
		action = "consumer.enable"
	}
	if reason != "" {
		details["reason"] = reason
	}
	return s.audit.Append(tx, a, action, rec.ID, "", details)
}

// putConsumerTx stores rec, for the in-memory view at commit.
func (s *Service) putConsumerTx(tx *viewtx.Tx, rec *consumerRecord) error {
	if err := kvjson.Put(tx, bucketConsumers, rec.ID, rec); err != nil {
		return err
	}
	e, err := rec.entry()
	if err != nil {
		return err
	}
	s.changed(tx).consumers = append(s.changed(tx).consumers, e)
	return nil
}

// disableConsumersOfTx disables every enabled consumer created by userID,
// audit-logged as "consumer.disable" with the reason.
func (s *Service) disableConsumersOfTx(tx *viewtx.Tx, a audit.Actor, userID string) error {
	var owned []*consumerRecord
	err := tx.Scan(bucketConsumers, "", func(_ string, v []byte) error {
		rec, err := kvjson.Decode[consumerRecord](v)
		if err == nil && rec.Enabled && rec.CreatedBy == userID {
			owned = append(owned, rec)
		}
		return err
	})
	if err != nil {
		return err
	}
	for _, rec := range owned {
		if err := s.setEnabledTx(tx, a, rec, false, "owner deleted"); err != nil {
			return err
		}
	}
	return nil
}
