package admin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/dynapi/dynapi/engine"
)

const (
	configBucket = "config"
	tokenHashKey = "admin_token_sha256"
)

// TokenHash is the SHA-256 of the administrator token. Only the hash is kept
// in memory and in the store.
type TokenHash [sha256.Size]byte

// HashToken hashes an administrator token.
func HashToken(token string) TokenHash { return sha256.Sum256([]byte(token)) }

// BootstrapToken settles the administrator token. A configured token (from
// flag or environment) wins and is never stored. Otherwise the stored hash
// is used; at first start a random token is generated, its hash stored, and
// the token returned as generated so the caller can print it once.
func BootstrapToken(ctx context.Context, store engine.Store, configured string) (hash TokenHash, generated string, err error) {
	if configured != "" {
		return HashToken(configured), "", nil
	}
	err = store.Update(ctx, func(tx engine.Tx) error {
		stored, err := tx.Get(configBucket, tokenHashKey)
		switch {
		case err == nil && len(stored) == len(hash):
			copy(hash[:], stored)
			return nil
		case err != nil && !errors.Is(err, engine.ErrNotFound):
			return err
		}
		var raw [32]byte
		if _, err := rand.Read(raw[:]); err != nil {
			return err
		}
		generated = base64.RawURLEncoding.EncodeToString(raw[:])
		hash = HashToken(generated)
		return tx.Put(configBucket, tokenHashKey, hash[:])
	})
	return hash, generated, err
}

// RequireToken refuses a request without "Authorization: Bearer <token>"
// matching hash, comparing in constant time.
func RequireToken(hash TokenHash) fiber.Handler {
	return func(c *fiber.Ctx) error {
		auth := c.Get(fiber.HeaderAuthorization)
		scheme, token, ok := strings.Cut(auth, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="dynapi-admin"`)
			return engine.NewError(http.StatusUnauthorized, engine.CodeUnauthorized,
				"the management API needs Authorization: Bearer <admin token>")
		}
		got := HashToken(strings.TrimSpace(token))
		if subtle.ConstantTimeCompare(got[:], hash[:]) != 1 {
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="dynapi-admin", error="invalid_token"`)
			return engine.NewError(http.StatusUnauthorized, engine.CodeUnauthorized, "the admin token is not valid")
		}
		return c.Next()
	}
}
