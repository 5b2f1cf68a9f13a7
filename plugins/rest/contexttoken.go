package rest

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/dynapi/dynapi/engine"
)

// The signed context header costs an ES256 signature, which is most of a
// call to a fast back end. A token says who calls and what for, not which
// call it is (the correlation id has its own header), so one token serves
// every call of a caller to one back end and method while it is fresh.
const (
	// contextTTL is the lifetime of a signed context header.
	contextTTL = time.Minute
	// contextReuse is how long a signed token is sent again: a back end
	// always receives a token with at least contextTTL-contextReuse left.
	contextReuse = 30 * time.Second
	// maxContextTokens bounds the tokens kept; when a new one would
	// exceed it the cache starts over, so many callers cannot make it
	// grow without bound.
	maxContextTokens = 4096
)

// contextKey is what a context token says, but for its times and id: the
// back end (aud), the method, the bank, the caller and the consent the
// call is made under (nil for none: one per consent revision, shared by
// its calls, so a consent's calls share a token too).
type contextKey struct {
	aud, method, bankID          string
	consumerID, userID, username string
	consent                      *engine.ConsentGrant
}

// claims are the token's claims; empty values are left out.
func (k *contextKey) claims() map[string]any {
	claims := map[string]any{"aud": k.aud, "method": k.method}
	put(claims, "consumer_id", k.consumerID)
	put(claims, "user_id", k.userID)
	put(claims, "username", k.username)
	put(claims, "bank_id", k.bankID)
	if k.consent != nil {
		claims["consent"] = k.consent
	}
	return claims
}

// put sets a claim that is not empty.
func put(claims map[string]any, key, value string) {
	if value != "" {
		claims[key] = value
	}
}

// contextToken is a signed token and until when it is sent.
type contextToken struct {
	token string
	until time.Time
}

// contextTokens caches signed context headers by what they say. It is safe
// for concurrent use; a hit takes no lock.
type contextTokens struct {
	m     sync.Map // contextKey → *contextToken
	count atomic.Int64
	max   int64
}

// token returns a fresh token for k, signing one with sign when none is
// cached or the cached one is due for renewal at now.
func (t *contextTokens) token(k contextKey, now time.Time, sign func(map[string]any) (string, error)) (string, error) {
	if v, ok := t.m.Load(k); ok {
		if ct := v.(*contextToken); now.Before(ct.until) {
			return ct.token, nil
		}
	}
	tok, err := sign(k.claims())
	if err != nil {
		return "", err
	}
	if _, replaced := t.m.Swap(k, &contextToken{token: tok, until: now.Add(contextReuse)}); !replaced {
		if t.count.Add(1) > t.max {
			t.m.Clear()
			t.count.Store(0)
		}
	}
	return tok, nil
}
