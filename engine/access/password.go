package access

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/dynapi/dynapi/engine"
)

// argonParams are argon2id's cost parameters. Memory is in KiB.
type argonParams struct {
	Memory  uint32
	Time    uint32
	Threads uint8
	KeyLen  uint32
}

// defaultArgon is the production cost: 64 MiB, one pass, two lanes (the
// second recommended option of RFC 9106).
var defaultArgon = argonParams{Memory: 64 * 1024, Time: 1, Threads: 2, KeyLen: 32}

// Bounds on parameters read back from a stored hash, so that a tampered
// record cannot make a login allocate gigabytes or spin for minutes.
const (
	maxArgonMemory  = 1 << 20 // 1 GiB
	maxArgonTime    = 16
	maxArgonThreads = 16
	saltLen         = 16
)

var b64 = base64.RawStdEncoding

// hashPassword returns the PHC string of password under p with a fresh
// random salt: $argon2id$v=19$m=65536,t=1,p=2$<salt>$<hash>.
func hashPassword(p argonParams, password string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// errBadHash reports a stored hash this package cannot read.
var errBadHash = errors.New("access: malformed password hash")

// parseHash splits a PHC argon2id string.
func parseHash(encoded string) (p argonParams, salt, key []byte, err error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, errBadHash
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, errBadHash
	}
	var m, t, th uint32
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &th); err != nil || n != 3 {
		return p, nil, nil, errBadHash
	}
	if th < 1 || th > maxArgonThreads || t < 1 || t > maxArgonTime || m < 8*th || m > maxArgonMemory {
		return p, nil, nil, errBadHash
	}
	salt, err1 := b64.DecodeString(parts[4])
	key, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(key) < 16 || len(key) > 128 {
		return p, nil, nil, errBadHash
	}
	return argonParams{Memory: m, Time: t, Threads: uint8(th), KeyLen: uint32(len(key))}, salt, key, nil
}

// verifyPassword reports whether password matches the PHC string encoded,
// comparing in constant time.
func verifyPassword(encoded, password string) bool {
	p, salt, key, err := parseHash(encoded)
	if err != nil {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return subtle.ConstantTimeCompare(got, key) == 1
}

// acquireHash bounds concurrent hashing: each argon2id run takes its
// memory cost (64 MiB by default), so a burst of logins must queue rather
// than exhaust memory.
func (s *Service) acquireHash(ctx context.Context) (release func(), err error) {
	select {
	case s.hashSem <- struct{}{}:
		return func() { <-s.hashSem }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// hashPW hashes password with the service's parameters.
func (s *Service) hashPW(ctx context.Context, password string) (string, error) {
	release, err := s.acquireHash(ctx)
	if err != nil {
		return "", wrapErr(err)
	}
	defer release()
	h, err := hashPassword(s.hash, password)
	return h, wrapErr(err)
}

// verifyPW checks password against encoded; an empty encoded (a user
// without a password) is checked against the dummy hash, so it costs the
// same and fails.
func (s *Service) verifyPW(ctx context.Context, encoded, password string) (bool, error) {
	release, err := s.acquireHash(ctx)
	if err != nil {
		return false, wrapErr(err)
	}
	defer release()
	s.verifies.Add(1)
	if encoded == "" {
		verifyPassword(s.dummy, password)
		return false, nil
	}
	return verifyPassword(encoded, password), nil
}

// Check returns every rule of the policy that password breaks, as
// violations of the body's /password; nil when it complies.
func (p PasswordPolicy) Check(password string) []engine.Violation {
	var out []engine.Violation
	add := func(code, msg string) {
		out = append(out, engine.Violation{Location: "body", Pointer: "/password", Code: code, Message: msg})
	}
	n := utf8.RuneCountInString(password)
	if !utf8.ValidString(password) {
		add("encoding", "the password must be valid UTF-8")
	}
	if n < p.MinLength {
		add("min_length", fmt.Sprintf("the password must have at least %d characters", p.MinLength))
	}
	if p.MaxLength > 0 && n > p.MaxLength {
		add("max_length", fmt.Sprintf("the password must have at most %d characters", p.MaxLength))
	}
	var upper, lower, digit, symbol bool
	for _, r := range password {
		switch {
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsLower(r):
			lower = true
		case unicode.IsDigit(r):
			digit = true
		case unicode.IsPunct(r) || unicode.IsSymbol(r) || r == ' ':
			symbol = true
		}
	}
	if p.RequireUpper && !upper {
		add("upper", "the password must contain an upper-case letter")
	}
	if p.RequireLower && !lower {
		add("lower", "the password must contain a lower-case letter")
	}
	if p.RequireDigit && !digit {
		add("digit", "the password must contain a digit")
	}
	if p.RequireSymbol && !symbol {
		add("symbol", "the password must contain a symbol")
	}
	return out
}

// checkPassword is Check as a 400 error, nil when the password complies.
func (p PasswordPolicy) checkPassword(password string) error {
	if v := p.Check(password); v != nil {
		return engine.NewError(400, engine.CodeValidationFailed, "the password does not satisfy the password policy", v...)
	}
	return nil
}

const (
	lowers  = "abcdefghijkmnopqrstuvwxyz" // no l: easier to read back
	uppers  = "ABCDEFGHJKLMNPQRSTUVWXYZ"  // no I, O
	digits  = "23456789"                  // no 0, 1
	symbols = "!#%+-.:=?@^_~"
	alnum   = lowers + uppers + digits
)

// generatePassword returns a random password satisfying p: 24 characters
// (more if p demands), with every character class present.
func (p PasswordPolicy) generatePassword() string {
	n := max(24, p.MinLength)
	if p.MaxLength > 0 && n > p.MaxLength {
		n = p.MaxLength
	}
	all := lowers + uppers + digits + symbols
	b := []byte(randomString(1, lowers) + randomString(1, uppers) + randomString(1, digits) +
		randomString(1, symbols) + randomString(max(0, n-4), all))
	// Shuffle so the classes are not at fixed places (Fisher-Yates).
	for i := len(b) - 1; i > 0; i-- {
		j := randomIndex(i + 1)
		b[i], b[j] = b[j], b[i]
	}
	return string(b[:n])
}

// randomString returns n characters drawn uniformly from alphabet with
// crypto/rand.
func randomString(n int, alphabet string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[randomIndex(len(alphabet))]
	}
	return string(b)
}

// randomIndex returns a uniform random int in [0, n), n <= 256.
func randomIndex(n int) int {
	limit := 256 - 256%n
	var buf [1]byte
	for {
		_, _ = rand.Read(buf[:]) // never fails since Go 1.24
		if int(buf[0]) < limit {
			return int(buf[0]) % n
		}
	}
}

// randomToken returns 32 random bytes, base64url without padding.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails since Go 1.24
	return base64.RawURLEncoding.EncodeToString(b)
}
