package consentauth

import (
	"crypto/hmac"
	"encoding/base64"
)

// CSRFToken is the anti-forgery token of the pages of authorisation id in
// the browser holding browserKey: an HMAC under the server's secret, so
// it is bound to both and stored nowhere.
func (s *Service) CSRFToken(id, browserKey string) string {
	return base64.RawURLEncoding.EncodeToString(s.mac("csrf", id, browserKey))
}

// CheckCSRF tells, in constant time, whether token is CSRFToken(id,
// browserKey); an empty key or token never is.
func (s *Service) CheckCSRF(id, browserKey, token string) bool {
	if id == "" || browserKey == "" || token == "" || len(token) > maxParam {
		return false
	}
	got, err := base64.RawURLEncoding.DecodeString(token)
	return err == nil && hmac.Equal(got, s.mac("csrf", id, browserKey))
}
