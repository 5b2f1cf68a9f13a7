package admin

import (
	"bytes"
	"encoding/json"
	"sync/atomic"

	"github.com/dynapi/dynapi/engine/events"
)

// jwkSet is the engine's JWK Set as /.well-known/jwks.json serves it: the
// OAuth2 signing keys and, beside them, the webhook key. The last set
// made is kept until the signing keys change (a rotation).
type jwkSet struct {
	last atomic.Pointer[mergedJWKS]
}

// mergedJWKS is the set made from the signing keys' set from.
type mergedJWKS struct{ from, set []byte }

// of is the signing keys' set signing with the webhook key of evs added;
// signing itself when there are no events.
func (j *jwkSet) of(signing []byte, evs *events.Service) []byte {
	if evs == nil {
		return signing
	}
	if m := j.last.Load(); m != nil && bytes.Equal(m.from, signing) {
		return m.set
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	key, err := json.Marshal(evs.WebhookKeys().JWK())
	if err != nil || json.Unmarshal(signing, &set) != nil {
		return signing
	}
	merged, err := json.Marshal(struct {
		Keys []json.RawMessage `json:"keys"`
	}{append(set.Keys, key)})
	if err != nil {
		return signing
	}
	j.last.Store(&mergedJWKS{from: signing, set: merged})
	return merged
}
