package identity

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
	"github.com/dynapi/dynapi/engine/viewtx"
	"github.com/dynapi/dynapi/internal/kvjson"
)

// PasswordHashing is argon2id's cost for new password hashes. Hashes
// stored under another cost still verify (a PHC string carries its own),
// and are rehashed under this one at the user's next good login.
type PasswordHashing struct {
	// MemoryKiB is the memory one hash fills, in KiB.
	MemoryKiB uint32
	// Iterations is the number of passes over that memory.
	Iterations uint32
	// Parallelism is the number of lanes.
	Parallelism uint8
}

// DefaultPasswordHashing is the production cost, the minimum OWASP's
// Password Storage Cheat Sheet states for argon2id: 19 MiB, two passes, one
// lane. Each hash running holds its memory, so this row of OWASP's table
// of equivalent costs (rather than 46 MiB and one pass) is what lets
// several logins hash at once in a bounded process.
var DefaultPasswordHashing = PasswordHashing{MemoryKiB: 19 * 1024, Iterations: 2, Parallelism: 1}

// hashingMemoryBudget bounds the memory the hashes running at once hold
// together: the semaphore admits budget/memory of them (at least one, at
// most GOMAXPROCS, since each keeps a CPU busy). At the default cost that
// is three, about 57 MiB.
const hashingMemoryBudget = 64 << 20

// hashSlots is how many hashes of memory cost p may run at once.
func hashSlots(p argonParams, procs int) int {
	return max(1, min(procs, int(hashingMemoryBudget/(int64(p.Memory)<<10))))
}

// params returns h, with the default cost where h is zero, as argon2id
// parameters with a 32-byte key.
func (h PasswordHashing) params() (argonParams, error) {
	if h == (PasswordHashing{}) {
		h = DefaultPasswordHashing
	}
	p := argonParams{Memory: h.MemoryKiB, Time: h.Iterations, Threads: h.Parallelism, KeyLen: 32}
	if !p.valid() {
		return p, fmt.Errorf("identity: password hashing cost m=%d,t=%d,p=%d is out of range (memory 8*p KiB to %d KiB, 1 to %d passes, 1 to %d lanes)",
			p.Memory, p.Time, p.Threads, maxArgonMemory, maxArgonTime, maxArgonThreads)
	}
	return p, nil
}

// argonParams are argon2id's cost parameters. Memory is in KiB.
type argonParams struct {
	Memory  uint32
	Time    uint32
	Threads uint8
	KeyLen  uint32
}

// valid reports whether p is within the bounds a stored hash may ask for.
func (p argonParams) valid() bool {
	return p.Threads >= 1 && p.Threads <= maxArgonThreads && p.Time >= 1 && p.Time <= maxArgonTime &&
		p.Memory >= 8*uint32(p.Threads) && p.Memory <= maxArgonMemory
}

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
// random salt: $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>.
func hashPassword(p argonParams, password string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	return encodeHash(p, salt, argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)), nil
}

// encodeHash writes a PHC argon2id string.
func encodeHash(p argonParams, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// dummyHash is a PHC string under p whose salt and key are random bytes:
// no password hashes to it, and verifying one against it costs what
// verifying against a real hash under p costs. It is made without hashing
// anything, so a start costs no hash.
func dummyHash(p argonParams) string {
	salt, key := make([]byte, saltLen), make([]byte, p.KeyLen)
	_, _ = rand.Read(salt) // never fails since Go 1.24
	_, _ = rand.Read(key)
	return encodeHash(p, salt, key)
}

// errBadHash reports a stored hash this package cannot read.
var errBadHash = errors.New("identity: malformed password hash")

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
	if th > maxArgonThreads {
		return p, nil, nil, errBadHash
	}
	p = argonParams{Memory: m, Time: t, Threads: uint8(th)}
	if !p.valid() {
		return p, nil, nil, errBadHash
	}
	salt, err1 := b64.DecodeString(parts[4])
	key, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(key) < 16 || len(key) > 128 {
		return p, nil, nil, errBadHash
	}
	p.KeyLen = uint32(len(key))
	return p, salt, key, nil
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

// acquireHash bounds concurrent hashing: each argon2id run holds its
// memory cost (19 MiB by default), so a burst of logins queues rather than
// exhausts memory (see hashSlots).
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
		return "", engine.Internal(err)
	}
	defer release()
	h, err := hashPassword(s.hash, password)
	if err != nil {
		return "", engine.Internal(err)
	}
	return h, nil
}

// verifyPW checks password against encoded; an empty encoded (a user
// without a password) is checked against the dummy hash, so it costs the
// same and fails.
func (s *Service) verifyPW(ctx context.Context, encoded, password string) (bool, error) {
	release, err := s.acquireHash(ctx)
	if err != nil {
		return false, engine.Internal(err)
	}
	defer release()
	s.verifies.Add(1)
	if encoded == "" {
		verifyPassword(s.dummy, password)
		return false, nil
	}
	return verifyPassword(encoded, password), nil
}

// stale reports whether encoded, a hash that verified, was made under
// other parameters than the service's.
func (s *Service) stale(encoded string) bool {
	p, _, _, err := parseHash(encoded)
	return err == nil && p != s.hash
}

// rehash stores password's hash under the service's parameters for user
// id, whose stored hash old has just verified with it and is stale. The
// login it follows succeeds whatever happens here: on failure the old hash
// stays and the next login tries again. A hash changed meanwhile (a reset)
// is kept.
func (s *Service) rehash(ctx context.Context, id, old, password string) error {
	hash, err := s.hashPW(ctx, password)
	if err != nil {
		return err
	}
	return s.w.Update(ctx, func(tx *viewtx.Tx) error {
		rec, err := userTx(tx, id)
		if err != nil || rec.PasswordHash != old {
			return err
		}
		rec.PasswordHash = hash
		return kvjson.Put(tx, bucketUsers, rec.ID, rec)
	})
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
