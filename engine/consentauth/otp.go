package consentauth

// OneTimeCode is a uniformly random 6-digit code, for other challenges
// than this service's own (OBP consents): the same codes everywhere.
func OneTimeCode() (string, error) { return sixDigits() }

// BindCode is HMAC-SHA256 under the server's secret of parts joined by
// NUL: what a challenge stores of its code, bound to what the code
// authorises (the consent, the customer, the code), so the store holds no
// code and a code answers only its own challenge. Compare with hmac.Equal.
func (s *Service) BindCode(parts ...string) []byte { return s.mac(parts...) }
