package oauth2

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dynapi/dynapi/engine"
)

// RevokedBucket holds the access tokens revoked before they expired:
// token id (jti) -> expiry (RFC 3339), until that expiry.
const RevokedBucket = "oauth2_revoked_tokens"

// revokedSet is the in-memory view of RevokedBucket that Authenticate
// reads: jti -> expiry. count makes the check free while nothing is
// revoked, the usual case.
type revokedSet struct {
	m     sync.Map // string -> time.Time
	count atomic.Int64
}

// add records jti as revoked until exp.
func (r *revokedSet) add(jti string, exp time.Time) {
	if _, loaded := r.m.LoadOrStore(jti, exp); !loaded {
		r.count.Add(1)
	}
}

// has tells whether jti was revoked.
func (r *revokedSet) has(jti string) bool {
	if r.count.Load() == 0 {
		return false
	}
	_, ok := r.m.Load(jti)
	return ok
}

// forgetExpired drops the entries whose token expired: they are refused
// on their expiry anyway.
func (r *revokedSet) forgetExpired(now time.Time) {
	r.m.Range(func(k, v any) bool {
		if !now.Before(v.(time.Time)) && r.m.CompareAndDelete(k, v) {
			r.count.Add(-1)
		}
		return true
	})
}

// RevokeAccessToken revokes an access token this issuer signed for the
// consumer with key clientKey (RFC 7009): it is refused from then on, on
// every request, though it has not expired. A token that is not this
// issuer's, is malformed, has expired or belongs to another client is
// left alone and reported false, as RFC 7009 answers every such token the
// same; only the store failing is an error.
func (i *Issuer) RevokeAccessToken(ctx context.Context, raw, clientKey string) (bool, error) {
	var claims Claims
	if _, err := i.parser.ParseWithClaims(raw, &claims, i.keyfunc); err != nil || claims.ID == "" || claims.ClientID != clientKey {
		return false, nil
	}
	exp := claims.ExpiresAt.Add(leeway)
	err := i.store.Update(ctx, func(tx engine.Tx) error {
		return tx.Put(RevokedBucket, claims.ID, []byte(exp.UTC().Format(time.RFC3339Nano)))
	})
	if err != nil {
		return false, err
	}
	i.revoked.add(claims.ID, exp)
	return true, nil
}

// loadRevoked reads the revoked tokens that have not expired into memory
// and deletes those that have from the store.
func (i *Issuer) loadRevoked(ctx context.Context) error {
	now := i.now()
	return i.store.Update(ctx, func(tx engine.Tx) error {
		var expired []string
		err := tx.ScanFrom(RevokedBucket, "", func(jti string, v []byte) error {
			exp, err := time.Parse(time.RFC3339Nano, string(v))
			if err != nil || !now.Before(exp) {
				expired = append(expired, jti)
				return nil
			}
			i.revoked.add(jti, exp)
			return nil
		})
		if err != nil {
			return err
		}
		for _, jti := range expired {
			if err := tx.Delete(RevokedBucket, jti); err != nil {
				return err
			}
		}
		return nil
	})
}
