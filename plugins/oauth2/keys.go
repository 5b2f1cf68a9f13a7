package oauth2

import (
	"cmp"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/MicahParks/jwkset"

	"github.com/dynapi/dynapi/engine"
)

// KeyBucket is the store bucket holding the signing keys, keyed by kid.
const KeyBucket = "oauth2_keys"

// alg is the one signing algorithm the issuer uses and accepts.
const alg = "ES256"

// Defaults for zero KeyConfig fields.
const (
	DefaultRotateAfter = 30 * 24 * time.Hour
	DefaultKeep        = 2
)

// KeyConfig says when signing keys rotate.
type KeyConfig struct {
	// RotateAfter is the age at which the current key is replaced, checked
	// by New and Rotate; zero means DefaultRotateAfter.
	RotateAfter time.Duration
	// Keep is how many previous keys stay published and accepted after a
	// rotation; zero means DefaultKeep, negative means none.
	Keep int
}

// keyRecord is a signing key as persisted. The private key is PKCS#8 DER,
// which encoding/json writes as base64.
type keyRecord struct {
	// Seq orders keys by creation, even when clocks tie or step back.
	Seq       uint64    `json:"seq"`
	KID       string    `json:"kid"`
	Alg       string    `json:"alg"`
	CreatedAt time.Time `json:"created_at"`
	PKCS8     []byte    `json:"pkcs8"`
}

// signingKey is a parsed signing key.
type signingKey struct {
	seq     uint64
	kid     string
	created time.Time
	priv    *ecdsa.PrivateKey
}

// keyring is an immutable snapshot of the keys in use, swapped atomically.
type keyring struct {
	current *signingKey
	public  map[string]*ecdsa.PublicKey // current and kept keys by kid
	jwks    []byte
}

// Rotate replaces the current signing key with a new one if it is older than
// KeyConfig.RotateAfter, dropping the oldest keys beyond KeyConfig.Keep, and
// deletes from the store the revocations of tokens that have expired. It
// reports whether it rotated. Call it periodically, e.g. hourly.
func (i *Issuer) Rotate(ctx context.Context) (bool, error) {
	rotated, err := i.rotate(ctx, false)
	if err != nil {
		return rotated, err
	}
	return rotated, i.loadRevoked(ctx)
}

// RotateNow replaces the current signing key at once, whatever its age, as
// after a suspected compromise; the oldest keys beyond KeyConfig.Keep are
// dropped and tokens they signed stop verifying.
func (i *Issuer) RotateNow(ctx context.Context) error {
	_, err := i.rotate(ctx, true)
	return err
}

// rotate loads the keys from the store, adds a new current key when forced,
// when there is none or when the current one is due, drops keys beyond
// Keep, and installs the result.
func (i *Issuer) rotate(ctx context.Context, force bool) (bool, error) {
	i.rotateMu.Lock()
	defer i.rotateMu.Unlock()
	now := i.now()
	var (
		ring    *keyring
		rotated bool
	)
	err := i.store.Update(ctx, func(tx engine.Tx) error {
		rotated = false
		keys, err := readKeys(tx)
		if err != nil {
			return err
		}
		if force || len(keys) == 0 || now.Sub(keys[len(keys)-1].created) >= i.rotateAfter {
			seq, err := tx.NextSequence(KeyBucket)
			if err != nil {
				return err
			}
			k, rec, err := generateKey(seq, now)
			if err != nil {
				return err
			}
			value, err := json.Marshal(rec)
			if err != nil {
				return err
			}
			if err := tx.Put(KeyBucket, k.kid, value); err != nil {
				return err
			}
			keys = append(keys, k)
			rotated = true
		}
		for len(keys) > i.keep+1 {
			if err := tx.Delete(KeyBucket, keys[0].kid); err != nil {
				return err
			}
			keys = keys[1:]
		}
		ring, err = newKeyring(keys)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("oauth2: signing keys: %w", err)
	}
	i.ring.Store(ring)
	return rotated, nil
}

// readKeys returns the stored keys, oldest first.
func readKeys(tx engine.Tx) ([]*signingKey, error) {
	var keys []*signingKey
	err := tx.Scan(KeyBucket, "", func(kid string, value []byte) error {
		var rec keyRecord
		if err := json.Unmarshal(value, &rec); err != nil {
			return fmt.Errorf("key %q: %w", kid, err)
		}
		if rec.Alg != alg || rec.KID != kid {
			return fmt.Errorf("key %q: unsupported record (alg %q)", kid, rec.Alg)
		}
		priv, err := x509.ParsePKCS8PrivateKey(rec.PKCS8)
		if err != nil {
			return fmt.Errorf("key %q: %w", kid, err)
		}
		ec, ok := priv.(*ecdsa.PrivateKey)
		if !ok || ec.Curve != elliptic.P256() {
			return fmt.Errorf("key %q: not a P-256 key", kid)
		}
		keys = append(keys, &signingKey{seq: rec.Seq, kid: kid, created: rec.CreatedAt, priv: ec})
		return nil
	})
	slices.SortFunc(keys, func(a, b *signingKey) int {
		return cmp.Or(cmp.Compare(a.seq, b.seq), a.created.Compare(b.created), cmp.Compare(a.kid, b.kid))
	})
	return keys, err
}

// generateKey makes a new P-256 key with a random kid.
func generateKey(seq uint64, now time.Time) (*signingKey, keyRecord, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, keyRecord{}, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, keyRecord{}, err
	}
	var id [12]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, keyRecord{}, err
	}
	kid := base64.RawURLEncoding.EncodeToString(id[:])
	now = now.UTC().Round(0)
	return &signingKey{seq: seq, kid: kid, created: now, priv: priv},
		keyRecord{Seq: seq, KID: kid, Alg: alg, CreatedAt: now, PKCS8: der}, nil
}

// newKeyring builds the snapshot for keys, oldest first; the newest is
// current and the JWK Set lists it first.
func newKeyring(keys []*signingKey) (*keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("no signing key")
	}
	r := &keyring{current: keys[len(keys)-1], public: make(map[string]*ecdsa.PublicKey, len(keys))}
	set := jwkset.JWKSMarshal{Keys: make([]jwkset.JWKMarshal, 0, len(keys))}
	for _, k := range slices.Backward(keys) {
		r.public[k.kid] = &k.priv.PublicKey
		jwk, err := jwkset.NewJWKFromKey(&k.priv.PublicKey, jwkset.JWKOptions{
			Metadata: jwkset.JWKMetadataOptions{ALG: jwkset.AlgES256, KID: k.kid, USE: jwkset.UseSig},
		})
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", k.kid, err)
		}
		set.Keys = append(set.Keys, jwk.Marshal())
	}
	var err error
	r.jwks, err = json.Marshal(set)
	return r, err
}

// JWKS returns the public keys that verify this issuer's tokens, the current
// one first, as a JWK Set (RFC 7517). It changes only on rotation, so it can
// be served with a cache lifetime of a few minutes.
func (i *Issuer) JWKS() []byte {
	return slices.Clone(i.ring.Load().jwks)
}
