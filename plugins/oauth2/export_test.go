package oauth2

// ForgetVerified empties the cache of verified tokens, so that benchmarks
// can measure a token's first verification.
func (i *Issuer) ForgetVerified() { i.verified.Clear() }

// Remembered counts the tokens in the cache of verified tokens.
func (i *Issuer) Remembered() int {
	n := 0
	i.verified.Range(func(any, any) bool { n++; return true })
	return n
}
