package events

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/internal/kvjson"
)

// keysBucket keeps the engine's webhook signing key.
const (
	keysBucket    = "event_keys"
	webhookKeyKey = "webhook"
)

// WebhookKeys sign webhooks with the engine's Ed25519 key, as Standard
// Webhooks' asymmetric scheme (v1a) does: receivers verify with the public
// key, so dynapi keeps no secret a receiver could also use.
type WebhookKeys struct {
	kid  string
	priv ed25519.PrivateKey
}

// storedKey is the key as stored.
type storedKey struct {
	Seed      []byte    `json:"seed"`
	CreatedAt time.Time `json:"created_at"`
}

// LoadWebhookKeys reads the engine's webhook key, making one at first
// start.
func LoadWebhookKeys(ctx context.Context, store engine.Store, now time.Time) (*WebhookKeys, error) {
	var k *storedKey
	err := store.Update(ctx, func(tx engine.Tx) error {
		var err error
		k, err = kvjson.Get[storedKey](tx, keysBucket, webhookKeyKey)
		if !errors.Is(err, engine.ErrNotFound) {
			return err
		}
		seed := make([]byte, ed25519.SeedSize)
		if _, err := rand.Read(seed); err != nil {
			return err
		}
		k = &storedKey{Seed: seed, CreatedAt: now.UTC()}
		return kvjson.Put(tx, keysBucket, webhookKeyKey, k)
	})
	if err != nil {
		return nil, fmt.Errorf("events: webhook key: %w", err)
	}
	if len(k.Seed) != ed25519.SeedSize {
		return nil, errors.New("events: the stored webhook key is damaged")
	}
	priv := ed25519.NewKeyFromSeed(k.Seed)
	sum := sha256.Sum256(priv.Public().(ed25519.PublicKey))
	return &WebhookKeys{kid: "whk-" + hex.EncodeToString(sum[:8]), priv: priv}, nil
}

// Sign is the webhook-signature header of a message: "v1a," and the
// base64 Ed25519 signature of "{id}.{timestamp}.{body}".
func (k *WebhookKeys) Sign(id, timestamp string, body []byte) string {
	msg := make([]byte, 0, len(id)+len(timestamp)+len(body)+2)
	msg = append(append(append(append(append(msg, id...), '.'), timestamp...), '.'), body...)
	return "v1a," + base64.StdEncoding.EncodeToString(ed25519.Sign(k.priv, msg))
}

// PublicKey is the public key in Standard Webhooks' form: "whpk_" and its
// base64 bytes.
func (k *WebhookKeys) PublicKey() string {
	return "whpk_" + base64.StdEncoding.EncodeToString(k.priv.Public().(ed25519.PublicKey))
}

// KeyID names the key in the JWK Set.
func (k *WebhookKeys) KeyID() string { return k.kid }

// JWK is the public key as a JSON Web Key (OKP, Ed25519), for
// /.well-known/jwks.json.
func (k *WebhookKeys) JWK() map[string]string {
	return map[string]string{"kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA", "kid": k.kid,
		"x": base64.RawURLEncoding.EncodeToString(k.priv.Public().(ed25519.PublicKey))}
}

// WebhookKeys are the keys the service signs webhooks with, whose public
// half subscribers are given.
func (s *Service) WebhookKeys() *WebhookKeys { return s.o.Keys }
