package directlogin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/identity"
	"github.com/dynapi/dynapi/internal/coarseclock"
)

// Method is the authenticator name and Principal.Method of DirectLogin.
const Method = "direct_login"

// Bucket is the store bucket holding one record per live token, keyed by
// the hex SHA-256 of the token.
const Bucket = "directlogin_tokens"

// DefaultTTL is how long a token lives when Options.TTL is zero.
const DefaultTTL = 24 * time.Hour

// tokenBytes is the entropy of a token; tokenLen its encoded length.
const (
	tokenBytes = 32
	tokenLen   = 43 // base64url without padding of 32 bytes
)

// Users is what the plugin asks of the user directory.
type Users interface {
	// CheckPassword returns the user whose password matches, or a 401
	// *engine.Error for any failure; it throttles by client address.
	CheckPassword(ctx context.Context, username, password, clientAddr string) (*identity.User, error)
	// User returns a user by id; it is asked once per session and
	// process, for the principal.
	User(ctx context.Context, id string) (*identity.User, error)
	// SessionValid reports, from memory, whether a session issued to the
	// user at issuedAt may still be used: the user is not locked or
	// deleted and nothing revoked its sessions since.
	SessionValid(userID string, issuedAt time.Time) bool
}

// Revisioned is implemented by a registry whose answers change only when
// its revision does (identity.Service). When Users and Consumers are one
// such registry, a session's consumer and standing are checked once per
// revision instead of on every request.
type Revisioned interface {
	Revision() uint64
}

// Consumers is what the plugin asks of the consumer registry. The lookup
// must be in memory: it runs on every authenticated request.
type Consumers interface {
	ConsumerByKey(key string) (*identity.Consumer, bool)
}

// Options configures New.
type Options struct {
	Store     engine.Store
	Users     Users
	Consumers Consumers
	// TTL is how long a token lives; zero means DefaultTTL.
	TTL time.Duration
	// Now is the clock; nil means time.Now, and coarseclock.Now for the
	// expiry check of each request.
	Now func() time.Time
}

// Plugin issues, checks and revokes DirectLogin tokens. It is safe for
// concurrent use; Authenticate reads only memory (plus Users.User on a
// session's first use in the process) and takes no lock.
type Plugin struct {
	store     engine.Store
	users     Users
	consumers Consumers
	ttl       time.Duration
	now       func() time.Time
	// checkNow is the clock each request's token expiry is checked with:
	// Options.Now, else the coarse clock, which costs no clock read.
	checkNow func() time.Time
	// registry is Users and Consumers when they are one Revisioned
	// registry, else nil.
	registry Revisioned

	sessions sync.Map // [32]byte SHA-256 of the token -> *session
	recent   *recent  // header values of recent requests -> session
}

var _ identity.Authenticator = (*Plugin)(nil)

// session is a live token as kept in memory.
type session struct {
	hash        [sha256.Size]byte
	userID      string
	consumerID  string
	consumerKey string
	created     time.Time
	expires     time.Time
	principal   atomic.Pointer[identity.Principal] // made on first use
	// ended is set once the session is revoked, dropped or purged
	// (forget), so a request that found it in the recent table sees it
	// ended without looking it up.
	ended atomic.Bool
	// verified is 1 + the registry revision at which the session's
	// consumer and standing last passed their checks, 0 for never.
	verified atomic.Uint64
}

// record is a live token as persisted. The token itself is never stored.
type record struct {
	UserID      string    `json:"user_id"`
	ConsumerID  string    `json:"consumer_id"`
	ConsumerKey string    `json:"consumer_key"`
	CreatedAt   time.Time `json:"created_at"`
	ExpiresAt   time.Time `json:"expires_at"`
}

// New returns a plugin with every unexpired token of the store loaded into
// memory; expired ones are purged.
func New(ctx context.Context, o Options) (*Plugin, error) {
	if o.Store == nil || o.Users == nil || o.Consumers == nil {
		return nil, errors.New("directlogin: Store, Users and Consumers are required")
	}
	p := &Plugin{store: o.Store, users: o.Users, consumers: o.Consumers, ttl: o.TTL, now: o.Now, recent: newRecent()}
	if p.ttl <= 0 {
		p.ttl = DefaultTTL
	}
	if r, ok := o.Users.(Revisioned); ok && any(o.Consumers) == any(o.Users) {
		p.registry = r
	}
	p.checkNow = p.now
	if p.now == nil {
		p.now, p.checkNow = time.Now, coarseclock.Now
	}
	now := p.now()
	stale := 0
	err := o.Store.View(ctx, func(tx engine.Tx) error {
		return tx.Scan(Bucket, "", func(key string, value []byte) error {
			s, ok := decode(key, value)
			if !ok || !now.Before(s.expires) {
				stale++
				return nil
			}
			p.sessions.Store(s.hash, s)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("directlogin: load tokens: %w", err)
	}
	if stale > 0 {
		if err := p.Purge(ctx); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// decode turns a stored record back into a session; ok is false for a
// record this version cannot read.
func decode(key string, value []byte) (*session, bool) {
	var h [sha256.Size]byte
	if len(key) != hex.EncodedLen(len(h)) {
		return nil, false
	}
	if _, err := hex.Decode(h[:], []byte(key)); err != nil {
		return nil, false
	}
	var r record
	if err := json.Unmarshal(value, &r); err != nil || r.UserID == "" || r.ExpiresAt.IsZero() {
		return nil, false
	}
	return &session{hash: h, userID: r.UserID, consumerID: r.ConsumerID,
		consumerKey: r.ConsumerKey, created: r.CreatedAt, expires: r.ExpiresAt}, true
}

// Name implements identity.Authenticator.
func (p *Plugin) Name() string { return Method }

// ConsumerRefusedError is the cause of a failed login whose password was
// right but whose consumer key is unknown or disabled, naming the user for
// the security log; the caller still sees only the one 401.
type ConsumerRefusedError struct{ UserID, Username string }

func (e *ConsumerRefusedError) Error() string {
	return "directlogin: consumer refused for user " + e.UserID
}

// Login checks the username, password and consumer key of a DirectLogin
// header and returns a new token, the only time it is ever shown, with the
// principal it authenticates. Missing parameters are a 400 naming them; a
// wrong password, an unknown or disabled consumer and a locked user are
// all the same 401.
func (p *Plugin) Login(ctx context.Context, c identity.Credentials) (string, *identity.Principal, error) {
	raw, _ := header(c)
	prm, err := parseParams(raw)
	if err != nil {
		return "", nil, malformed(err)
	}
	var missing []engine.Violation
	for _, f := range [...]struct{ name, value string }{
		{paramUsername, prm.username},
		{paramPassword, prm.password},
		{paramConsumerKey, prm.consumerKey},
	} {
		if f.value == "" {
			missing = append(missing, engine.Violation{Location: "header",
				Pointer: "/DirectLogin/" + f.name, Code: "required",
				Message: f.name + " is required"})
		}
	}
	if len(missing) > 0 {
		names := make([]string, len(missing))
		for i, v := range missing {
			names[i] = strings.TrimPrefix(v.Pointer, "/DirectLogin/")
		}
		return "", nil, engine.NewError(http.StatusBadRequest, engine.CodeBadRequest,
			"the DirectLogin header lacks "+strings.Join(names, ", "), missing...)
	}

	// The password is checked first even when the consumer key is unknown,
	// so that the time taken tells nothing about which part was wrong.
	user, err := p.users.CheckPassword(ctx, prm.username, prm.password, c.ClientAddr())
	if err != nil {
		if e := engine.AsError(err); passThrough(e) {
			return "", nil, e // throttled, or the store failed
		}
		return "", nil, invalidCredentials().WithCause(err)
	}
	if user == nil || user.Locked {
		return "", nil, invalidCredentials()
	}
	consumer, ok := p.consumers.ConsumerByKey(prm.consumerKey)
	if !ok || consumer == nil || !consumer.Enabled {
		return "", nil, invalidCredentials().WithCause(&ConsumerRefusedError{UserID: user.ID, Username: user.Username})
	}

	var buf [tokenBytes]byte
	if _, err := rand.Read(buf[:]); err != nil {
		return "", nil, engine.Internal(err)
	}
	token := base64.RawURLEncoding.EncodeToString(buf[:])
	now := p.now()
	s := &session{hash: sha256.Sum256([]byte(token)), userID: user.ID,
		consumerID: consumer.ID, consumerKey: consumer.Key, created: now, expires: now.Add(p.ttl)}
	value, err := json.Marshal(record{UserID: s.userID, ConsumerID: s.consumerID,
		ConsumerKey: s.consumerKey, CreatedAt: now.UTC(), ExpiresAt: s.expires.UTC()})
	if err != nil {
		return "", nil, engine.Internal(err)
	}
	key := hex.EncodeToString(s.hash[:])
	if err := p.store.Update(ctx, func(tx engine.Tx) error {
		return tx.Put(Bucket, key, value)
	}); err != nil {
		return "", nil, engine.Internal(fmt.Errorf("directlogin: save token: %w", err))
	}
	pr := &identity.Principal{UserID: user.ID, Username: user.Username, ConsumerID: consumer.ID, Method: Method}
	s.principal.Store(pr)
	p.sessions.Store(s.hash, s)
	return token, pr, nil
}

// Authenticate implements identity.Authenticator for "DirectLogin:
// token=..." and "Authorization: DirectLogin token=...".
func (p *Plugin) Authenticate(ctx context.Context, c identity.Credentials) (*identity.Principal, error) {
	raw, ok := header(c)
	if !ok {
		return nil, identity.ErrNoCredentials
	}
	now := p.checkNow()
	s, err := p.session(ctx, raw, now)
	if err != nil {
		return nil, err
	}
	if err := p.standing(ctx, s); err != nil {
		return nil, err
	}
	// The principal of a session is made once and shared by its requests:
	// nothing downstream changes a principal.
	if pr := s.principal.Load(); pr != nil {
		return pr, nil
	}
	user, err := p.users.User(ctx, s.userID)
	if err != nil {
		if e := engine.AsError(err); passThrough(e) {
			return nil, e
		}
		p.drop(ctx, s)
		return nil, invalidToken().WithCause(err)
	}
	if user == nil || user.Locked {
		return nil, invalidToken()
	}
	pr := &identity.Principal{UserID: user.ID, Username: user.Username, ConsumerID: s.consumerID, Method: Method}
	s.principal.Store(pr)
	return pr, nil
}

// standing checks that s's consumer is enabled and its user may still use
// it, or answers a 401; once per registry revision when there is one.
func (p *Plugin) standing(ctx context.Context, s *session) error {
	var rev uint64
	if p.registry != nil {
		// Read before the checks: a change made meanwhile has a later
		// revision, so the next request checks again.
		if rev = p.registry.Revision() + 1; s.verified.Load() == rev {
			return nil
		}
	}
	consumer, ok := p.consumers.ConsumerByKey(s.consumerKey)
	if !ok || consumer == nil || !consumer.Enabled || consumer.ID != s.consumerID {
		return invalidToken()
	}
	if !p.users.SessionValid(s.userID, s.created) {
		p.drop(ctx, s)
		return invalidToken()
	}
	s.verified.Store(rev)
	return nil
}

// session returns the live session of the token in a DirectLogin header
// value, or a 401. A header value seen recently finds its session without
// parsing or hashing, if the session is still in the sessions map.
func (p *Plugin) session(ctx context.Context, raw string, now time.Time) (*session, error) {
	s := p.recent.get(raw)
	if s == nil || s.ended.Load() {
		var err error
		if s, err = p.lookup(raw); err != nil {
			return nil, err
		}
		p.recent.put(raw, s)
	}
	if !now.Before(s.expires) {
		p.drop(ctx, s)
		return nil, invalidToken()
	}
	return s, nil
}

// forget ends s: it leaves the live sessions, and requests that hold it
// see it ended. It reports whether this call ended it.
func (p *Plugin) forget(s *session) bool {
	if !p.sessions.CompareAndDelete(s.hash, s) {
		return false
	}
	s.ended.Store(true)
	return true
}

// lookup parses a DirectLogin header value and finds the session of its
// token, or a 401.
func (p *Plugin) lookup(raw string) (*session, error) {
	prm, err := parseParams(raw)
	if err != nil || len(prm.token) != tokenLen {
		return nil, invalidToken()
	}
	// Hash from a stack copy: converting the string would allocate.
	var buf [tokenLen]byte
	copy(buf[:], prm.token)
	h := sha256.Sum256(buf[:])
	v, ok := p.sessions.Load(h)
	if !ok {
		return nil, invalidToken()
	}
	s := v.(*session)
	// The map lookup compares digests, which tell an attacker nothing about
	// other tokens; this makes the one explicit comparison constant time too.
	if subtle.ConstantTimeCompare(s.hash[:], h[:]) != 1 {
		return nil, invalidToken()
	}
	return s, nil
}

// Revoke ends the token the request carries, in the store and in memory.
// It is a 401 when the request carries no live token.
func (p *Plugin) Revoke(ctx context.Context, c identity.Credentials) error {
	raw, ok := header(c)
	if !ok {
		return invalidToken()
	}
	s, err := p.session(ctx, raw, p.now())
	if err != nil {
		return err
	}
	key := hex.EncodeToString(s.hash[:])
	if err := p.store.Update(ctx, func(tx engine.Tx) error {
		return tx.Delete(Bucket, key)
	}); err != nil {
		return engine.Internal(fmt.Errorf("directlogin: revoke token: %w", err))
	}
	p.forget(s)
	return nil
}

// drop removes an expired session found on the request path. The first
// caller to remove it from memory deletes the record; if that fails Purge
// will.
func (p *Plugin) drop(ctx context.Context, s *session) {
	if !p.forget(s) {
		return
	}
	key := hex.EncodeToString(s.hash[:])
	_ = p.store.Update(context.WithoutCancel(ctx), func(tx engine.Tx) error {
		return tx.Delete(Bucket, key)
	})
}

// Purge deletes every expired or revoked token (its user locked, deleted
// or its sessions revoked), from memory and from the store, along with
// records this version cannot read.
func (p *Plugin) Purge(ctx context.Context) error {
	now := p.now()
	p.sessions.Range(func(_, v any) bool {
		if s := v.(*session); !p.live(s, now) {
			p.forget(s)
		}
		return true
	})
	err := p.store.Update(ctx, func(tx engine.Tx) error {
		var stale []string
		err := tx.Scan(Bucket, "", func(key string, value []byte) error {
			if s, ok := decode(key, value); !ok || !p.live(s, now) {
				stale = append(stale, key)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, key := range stale {
			if err := tx.Delete(Bucket, key); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("directlogin: purge: %w", err)
	}
	return nil
}

// live reports whether a session is neither expired nor revoked.
func (p *Plugin) live(s *session, now time.Time) bool {
	return now.Before(s.expires) && p.users.SessionValid(s.userID, s.created)
}

// header returns the DirectLogin parameters of a request: the DirectLogin
// header, else an Authorization header of the DirectLogin scheme.
func header(c identity.Credentials) (string, bool) {
	if v := c.Header("DirectLogin"); v != "" {
		return v, true
	}
	const scheme = "DirectLogin"
	a := c.Header("Authorization")
	if len(a) < len(scheme) || !strings.EqualFold(a[:len(scheme)], scheme) {
		return "", false
	}
	if rest := a[len(scheme):]; rest == "" || isBlank(rest[0]) {
		return rest, true
	}
	return "", false
}

// malformed is the 400 for a DirectLogin header that cannot be read. It
// never echoes the header.
func malformed(err error) *engine.Error {
	msg := "the DirectLogin header is malformed: expected name=\"value\" pairs separated by commas"
	if errors.Is(err, errDuplicate) {
		msg = "the DirectLogin header repeats a parameter"
	}
	return engine.NewError(http.StatusBadRequest, engine.CodeBadRequest, msg,
		engine.Violation{Location: "header", Pointer: "/DirectLogin", Code: "malformed", Message: msg})
}

// passThrough tells the failures of a dependency to hand on as they are:
// the store failing, or throttling. Any other refusal becomes this
// package's own 401.
func passThrough(e *engine.Error) bool {
	return e.Status >= http.StatusInternalServerError || e.Status == http.StatusTooManyRequests
}

// invalidCredentials is the one 401 of a failed login, whatever failed.
func invalidCredentials() *engine.Error {
	return engine.NewError(http.StatusUnauthorized, engine.CodeUnauthorized, "invalid credentials")
}

// invalidToken is the one 401 of a DirectLogin token that does not
// authenticate: unknown, expired, revoked, or its user or consumer barred.
func invalidToken() *engine.Error {
	return engine.NewError(http.StatusUnauthorized, engine.CodeUnauthorized,
		"invalid or expired DirectLogin token")
}
