package identity

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/viewtx"
	"github.com/dynapi/dynapi/internal/kvjson"
)

// NewUser is what CreateUser needs.
type NewUser struct {
	Username string `json:"username"`
	Email    string `json:"email"`
	Password string `json:"password"`
}

// userRecord is a user as stored, with its password hash and external
// identity.
type userRecord struct {
	ID           string    `json:"user_id"`
	Username     string    `json:"username"`
	Email        string    `json:"email,omitempty"`
	Provider     string    `json:"provider"`
	Subject      string    `json:"subject,omitempty"`
	Locked       bool      `json:"locked"`
	CreatedAt    time.Time `json:"created_at"`
	PasswordHash string    `json:"password_hash,omitempty"`
}

// user is the record as returned: without its password hash.
func (r *userRecord) user() *User {
	return &User{ID: r.ID, Username: r.Username, Email: r.Email, Provider: r.Provider,
		Locked: r.Locked, CreatedAt: r.CreatedAt}
}

// ProviderLocal is User.Provider for users with a local password.
const ProviderLocal = "local"

// usernameAlphabet is every byte a username index key can hold, sorted.
const usernameAlphabet = "-.0123456789@_abcdefghijklmnopqrstuvwxyz"

// validUsername: [A-Za-z0-9._@-]{1,100}.
func validUsername(u string) bool {
	if u == "" || len(u) > 100 {
		return false
	}
	for i := 0; i < len(u); i++ {
		if c := u[i]; !isLetter(c) && !isDigit(c) && c != '.' && c != '_' && c != '@' && c != '-' {
			return false
		}
	}
	return true
}

// validEmail is a light check: one '@' between non-empty parts, no spaces
// or control characters, at most 254 bytes.
func validEmail(e string) bool {
	if len(e) > 254 {
		return false
	}
	at := strings.IndexByte(e, '@')
	if at <= 0 || at == len(e)-1 || strings.Count(e, "@") != 1 {
		return false
	}
	for _, r := range e {
		if r <= ' ' || r == 0x7f {
			return false
		}
	}
	return true
}

// nameKey is a username's key in the unique index: usernames are unique
// regardless of case, so "Admin" cannot pose as "admin".
func nameKey(username string) string { return strings.ToLower(username) }

func userNotFound(id string) error {
	return engine.Errorf(http.StatusNotFound, engine.CodeNotFound, "user %q not found", id)
}

// CreateUser creates a local user. The username ([A-Za-z0-9._@-]{1,100})
// is unique regardless of case (409 username_taken); a bad username or
// email and every password rule broken come back together as violations
// of one 400. The password is stored as an argon2id hash. Audit-logged as
// "user.create".
func (s *Service) CreateUser(ctx context.Context, a audit.Actor, in NewUser) (*User, error) {
	var faults []engine.Violation
	if !validUsername(in.Username) {
		faults = append(faults, engine.Violation{Location: "body", Pointer: "/username", Code: "pattern",
			Message: "a username is 1 to 100 letters, digits, '.', '_', '@' or '-'"})
	}
	if in.Email != "" && !validEmail(in.Email) {
		faults = append(faults, engine.Violation{Location: "body", Pointer: "/email", Code: "format",
			Message: "not an email address"})
	}
	faults = append(faults, s.policy.Check(in.Password)...)
	if faults != nil {
		return nil, engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed, "the user cannot be created", faults...)
	}
	hash, err := s.hashPW(ctx, in.Password)
	if err != nil {
		return nil, err
	}
	rec := &userRecord{ID: uuid.NewString(), Username: in.Username, Email: in.Email, Provider: ProviderLocal,
		CreatedAt: s.now().UTC(), PasswordHash: hash}
	err = s.w.Update(ctx, func(tx *viewtx.Tx) error {
		if err := s.insertUserTx(tx, rec); err != nil {
			return err
		}
		return s.audit.Append(tx, a, "user.create", rec.ID, "", map[string]any{"username": rec.Username})
	})
	if err != nil {
		return nil, err
	}
	return rec.user(), nil
}

// insertUserTx stores a new user and its indexes.
func (s *Service) insertUserTx(tx engine.Tx, rec *userRecord) error {
	taken, err := kvjson.Exists(tx, bucketUsersByName, nameKey(rec.Username))
	if err != nil {
		return err
	}
	if taken {
		return engine.Errorf(http.StatusConflict, CodeUsernameTaken, "username %q is taken", rec.Username)
	}
	if err := kvjson.Put(tx, bucketUsers, rec.ID, rec); err != nil {
		return err
	}
	if rec.Subject != "" {
		if err := tx.Put(bucketUsersByExternal, rec.Provider+sep+rec.Subject, []byte(rec.ID)); err != nil {
			return err
		}
	}
	return tx.Put(bucketUsersByName, nameKey(rec.Username), []byte(rec.ID))
}

// userTx loads a user record; a 404 when missing.
func userTx(tx engine.Tx, id string) (*userRecord, error) {
	if id == "" {
		return nil, userNotFound(id)
	}
	rec, err := kvjson.Get[userRecord](tx, bucketUsers, id)
	if errors.Is(err, engine.ErrNotFound) {
		return nil, userNotFound(id)
	}
	return rec, err
}

// userByNameTx loads a user by username, nil when there is none.
func userByNameTx(tx engine.Tx, username string) (*userRecord, error) {
	id, err := tx.Get(bucketUsersByName, nameKey(username))
	if errors.Is(err, engine.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	rec, err := kvjson.Get[userRecord](tx, bucketUsers, string(id))
	if errors.Is(err, engine.ErrNotFound) {
		return nil, nil
	}
	return rec, err
}

// User returns the user with id, or a 404. PasswordHash is never filled
// in by this or any other method.
func (s *Service) User(ctx context.Context, id string) (*User, error) {
	var out *User
	err := s.w.View(ctx, func(tx engine.Tx) error {
		rec, err := userTx(tx, id)
		if err != nil {
			return err
		}
		out = rec.user()
		return nil
	})
	return out, err
}

// UserByName returns the user called username (any case), or a 404.
func (s *Service) UserByName(ctx context.Context, username string) (*User, error) {
	var out *User
	err := s.w.View(ctx, func(tx engine.Tx) error {
		rec, err := userByNameTx(tx, username)
		if err != nil {
			return err
		}
		if rec == nil {
			return engine.Errorf(http.StatusNotFound, engine.CodeNotFound, "user %q not found", username)
		}
		out = rec.user()
		return nil
	})
	return out, err
}

// Users returns up to limit users (default 50, at most 1000) in username
// order (case-insensitive), starting after the opaque cursor after ("" for
// the first page). next is the cursor of the following page, "" after the
// last one. A page costs its own size, not the users before it.
func (s *Service) Users(ctx context.Context, after string, limit int) (users []*User, next string, err error) {
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 1000)
	var from string
	if after != "" {
		b, err := base64.RawURLEncoding.DecodeString(after)
		if err != nil || len(b) == 0 {
			return nil, "", engine.NewError(http.StatusBadRequest, engine.CodeBadRequest, "invalid cursor")
		}
		from = string(b)
	}
	err = s.w.View(ctx, func(tx engine.Tx) error {
		users, next = nil, ""
		var last string
		err := kvjson.ScanAfter(tx, bucketUsersByName, from, usernameAlphabet, func(k string, v []byte) error {
			if len(users) == limit {
				next = base64.RawURLEncoding.EncodeToString([]byte(last))
				return kvjson.ErrStop
			}
			rec, err := kvjson.Get[userRecord](tx, bucketUsers, string(v))
			if errors.Is(err, engine.ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			users = append(users, rec.user())
			last = k
			return nil
		})
		if errors.Is(err, kvjson.ErrStop) {
			return nil
		}
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return users, next, nil
}

// SetLocked locks or unlocks a user. A lock ends every session and token
// issued to the user until now, at once and for good: unlocking lets the
// user log in again but does not revive them. Unlocking also clears the
// user's failed logins. Audit-logged as "user.lock" or "user.unlock".
func (s *Service) SetLocked(ctx context.Context, a audit.Actor, id string, locked bool) (*User, error) {
	var out *User
	err := s.w.Update(ctx, func(tx *viewtx.Tx) error {
		rec, err := userTx(tx, id)
		if err != nil {
			return err
		}
		rec.Locked = locked
		if err := kvjson.Put(tx, bucketUsers, rec.ID, rec); err != nil {
			return err
		}
		if locked {
			err = s.revokeTokensTx(tx, rec.ID, func(st *standing) { st.Locked = true })
		} else {
			err = s.unlockTx(tx, rec.ID)
		}
		if err != nil {
			return err
		}
		out = rec.user()
		action := "user.unlock"
		if locked {
			action = "user.lock"
		}
		return s.audit.Append(tx, a, action, rec.ID, "", map[string]any{"username": rec.Username})
	})
	if err != nil {
		return nil, err
	}
	if !locked {
		s.throttle.reset(nameKey(out.Username))
	}
	return out, nil
}

// unlockTx clears a user's lock, keeping the instant before which its
// tokens stay revoked.
func (s *Service) unlockTx(tx *viewtx.Tx, id string) error {
	old, err := standingTx(tx, id)
	if err != nil || old == nil || !old.Locked {
		return err
	}
	next := *old
	next.Locked = false
	return s.putStandingTx(tx, id, &next)
}

// SetPassword resets a user's password, as an administrator does, checked
// against the policy like CreateUser's. Every session and token issued to
// the user until now ends. Audit-logged as "user.password_reset" (without
// the password).
func (s *Service) SetPassword(ctx context.Context, a audit.Actor, id, password string) (*User, error) {
	if err := s.policy.checkPassword(password); err != nil {
		return nil, err
	}
	hash, err := s.hashPW(ctx, password)
	if err != nil {
		return nil, err
	}
	var out *User
	err = s.w.Update(ctx, func(tx *viewtx.Tx) error {
		rec, err := userTx(tx, id)
		if err != nil {
			return err
		}
		if rec.Provider != ProviderLocal {
			return noLocalPassword(rec)
		}
		rec.PasswordHash = hash
		if err := kvjson.Put(tx, bucketUsers, rec.ID, rec); err != nil {
			return err
		}
		if err := s.revokeTokensTx(tx, rec.ID, nil); err != nil {
			return err
		}
		out = rec.user()
		return s.audit.Append(tx, a, "user.password_reset", rec.ID, "", map[string]any{"username": rec.Username})
	})
	return out, err
}

// noLocalPassword is the 409 for a password change of an external user,
// whose identity provider owns its credentials.
func noLocalPassword(rec *userRecord) error {
	return engine.Errorf(http.StatusConflict, engine.CodeConflict,
		"user %q logs in through %s and has no local password", rec.Username, rec.Provider)
}

// ChangePassword sets the password of the user a acts for, who proves it
// knows the current one. The check is throttled like a login from
// a.Address; a wrong current password is a 400 naming /current_password,
// the new one is checked against the policy (violations at
// /new_password). Every session and token of the user issued until now
// ends, the caller's own included. Audit-logged as "user.password_change".
func (s *Service) ChangePassword(ctx context.Context, a audit.Actor, current, next string) error {
	var rec *userRecord
	if err := s.w.View(ctx, func(tx engine.Tx) error {
		var err error
		rec, err = userTx(tx, a.UserID)
		return err
	}); err != nil {
		return err
	}
	if rec.Provider != ProviderLocal {
		return noLocalPassword(rec)
	}
	var faults []engine.Violation
	if current == "" {
		faults = append(faults, engine.Violation{Location: "body", Pointer: "/current_password", Code: "required",
			Message: "the current password is required"})
	}
	for _, v := range s.policy.Check(next) {
		v.Pointer = "/new_password"
		faults = append(faults, v)
	}
	if faults != nil {
		return engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed, "the password cannot be changed", faults...)
	}
	if _, err := s.checkPassword(ctx, rec.Username, current, a.Address, "password_change"); err != nil {
		if e := engine.AsError(err); e.Status != http.StatusUnauthorized {
			return e
		}
		return engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed, "the password cannot be changed",
			engine.Violation{Location: "body", Pointer: "/current_password", Code: "mismatch",
				Message: "the current password is wrong"})
	}
	hash, err := s.hashPW(ctx, next)
	if err != nil {
		return err
	}
	return s.w.Update(ctx, func(tx *viewtx.Tx) error {
		rec, err := userTx(tx, a.UserID)
		if err != nil {
			return err
		}
		rec.PasswordHash = hash
		if err := kvjson.Put(tx, bucketUsers, rec.ID, rec); err != nil {
			return err
		}
		if err := s.revokeTokensTx(tx, rec.ID, nil); err != nil {
			return err
		}
		return s.audit.Append(tx, a, "user.password_change", rec.ID, "", map[string]any{"username": rec.Username})
	})
}

// ClearLoginFailures forgets a user's failed logins from every address,
// ending its lockouts and slowdowns at once: the operators' break-glass
// when an attacker's guesses keep a user out. A 404 for an unknown user.
// Audit-logged as "user.clear_login_failures".
func (s *Service) ClearLoginFailures(ctx context.Context, a audit.Actor, id string) error {
	var name string
	err := s.w.Update(ctx, func(tx *viewtx.Tx) error {
		rec, err := userTx(tx, id)
		if err != nil {
			return err
		}
		name = rec.Username
		return s.audit.Append(tx, a, "user.clear_login_failures", rec.ID, "", map[string]any{"username": rec.Username})
	})
	if err == nil {
		s.throttle.reset(nameKey(name))
	}
	return err
}

// DeleteUserTx deletes a user inside tx; a 404 when missing. In the same
// transaction the consumers it created are disabled and every session and
// token issued to it ends; an external identity's tokens issued before the
// deletion stay refused should the identity come back, and once tx
// commits its failed logins are forgotten. Audit-logged as "user.delete"
// and each consumer as "consumer.disable". The user's grants are not this
// package's: the caller deletes them in tx too.
func (s *Service) DeleteUserTx(tx *viewtx.Tx, a audit.Actor, id string) error {
	rec, err := userTx(tx, id)
	if err != nil {
		return err
	}
	if err := s.disableConsumersOfTx(tx, a, id); err != nil {
		return err
	}
	if err := s.revokeTokensTx(tx, id, func(st *standing) { st.Deleted = true }); err != nil {
		return err
	}
	if rec.Subject != "" {
		extKey := rec.Provider + sep + rec.Subject
		if err := kvjson.Put(tx, bucketExternalGone, extKey, s.now().UTC()); err != nil {
			return err
		}
		if err := tx.Delete(bucketUsersByExternal, extKey); err != nil {
			return err
		}
	}
	if err := tx.Delete(bucketUsersByName, nameKey(rec.Username)); err != nil {
		return err
	}
	if err := tx.Delete(bucketUsers, id); err != nil {
		return err
	}
	tx.Reveal(func() { s.throttle.reset(nameKey(rec.Username)) })
	return s.audit.Append(tx, a, "user.delete", id, "", map[string]any{"username": rec.Username})
}

// RequireUser is a 404 when user id does not exist, inside tx.
func RequireUser(tx engine.Tx, id string) error {
	_, err := userTx(tx, id)
	return err
}

// UserExists reports whether user id exists, inside tx.
func UserExists(tx engine.Tx, id string) (bool, error) {
	return kvjson.Exists(tx, bucketUsers, id)
}

// invalidCredentials is the one error of every failed login.
func invalidCredentials() *engine.Error {
	return engine.NewError(http.StatusUnauthorized, engine.CodeUnauthorized, "invalid credentials")
}

// CheckPassword checks a login from clientAddr ("" when unknown). Failed
// logins are throttled (see ThrottleOptions): an attempt from an address,
// or for a user, past SlowAfter failures waits first; a user locked out
// from this address fails without its password being checked, and stays
// usable from every other address. Every failure - unknown user, user
// without a password, wrong password, locked user, locked out - is the
// same 401 (code "unauthorized", message "invalid credentials"), and all
// but the locked-out one hash a password, so neither the answer nor its
// time tells whether a user exists. Each failure, lockout and slowdown is
// recorded as a security event, without the password.
func (s *Service) CheckPassword(ctx context.Context, username, password, clientAddr string) (*User, error) {
	return s.checkPassword(ctx, username, password, clientAddr, "direct_login")
}

// checkPassword is CheckPassword, recording events under method.
func (s *Service) checkPassword(ctx context.Context, username, password, addr, method string) (*User, error) {
	userKey := ""
	if validUsername(username) {
		userKey = nameKey(username)
	}
	var rec *userRecord
	err := s.w.View(ctx, func(tx engine.Tx) error {
		if userKey == "" {
			return nil
		}
		var err error
		rec, err = userByNameTx(tx, username)
		return err
	})
	if err != nil {
		return nil, err
	}
	event := SecurityEvent{Action: ActionLoginFailure, Method: method, Address: addr}
	if rec != nil {
		event.UserID, event.Username = rec.ID, rec.Username
	}
	if err := s.sleep(ctx, s.throttle.delay(userKey, addr, s.now())); err != nil {
		return nil, engine.Internal(err)
	}
	ok, err := s.throttle.begin(ctx, userKey, addr, s.now)
	if err != nil {
		return nil, engine.Internal(err)
	}
	if !ok {
		event.Reason = ReasonLockedOut
		s.logins.Failed(method, ReasonLockedOut)
		_ = s.RecordSecurityEvent(ctx, event)
		return nil, invalidCredentials()
	}
	hash := ""
	if rec != nil {
		hash = rec.PasswordHash
	}
	match, err := s.verifyPW(ctx, hash, password)
	if err != nil {
		s.throttle.end(userKey, addr, aborted, s.now())
		return nil, err
	}
	if match && !rec.Locked {
		s.throttle.end(userKey, addr, succeeded, s.now())
		if s.stale(hash) {
			_ = s.rehash(ctx, rec.ID, hash, password) // best effort: the next login tries again
		}
		return rec.user(), nil
	}
	tr := s.throttle.end(userKey, addr, failed, s.now())
	switch {
	case rec == nil:
		event.Reason = ReasonUnknownUser
	case rec.PasswordHash == "":
		event.Reason = ReasonNoPassword
	case match:
		event.Reason = ReasonUserLocked
	default:
		event.Reason = ReasonWrongPassword
	}
	s.recordThrottled(ctx, event, tr)
	return nil, invalidCredentials()
}

// recordThrottled records a failed login and the lockout or slowdowns it
// started.
func (s *Service) recordThrottled(ctx context.Context, failure SecurityEvent, tr transitions) {
	s.logins.Failed(failure.Method, failure.Reason)
	_ = s.RecordSecurityEvent(ctx, failure)
	if tr.lockedOut {
		s.logins.LockedOut(failure.Method)
		e := failure
		e.Action, e.Reason = ActionLoginLockout, ""
		e.Details = map[string]any{"until": tr.lockedUntil.UTC()}
		_ = s.RecordSecurityEvent(ctx, e)
	}
	if tr.addrSlowed {
		_ = s.RecordSecurityEvent(ctx, SecurityEvent{Action: ActionLoginSlowed, Method: failure.Method,
			Address: failure.Address, Details: map[string]any{"scope": "address"}})
	}
	if tr.userSlowed && failure.UserID != "" {
		e := failure
		e.Action, e.Reason = ActionLoginSlowed, ""
		e.Details = map[string]any{"scope": "user"}
		_ = s.RecordSecurityEvent(ctx, e)
	}
}

// ExternalUser finds or creates the user of an external identity: subject
// at provider (an issuer), unique together. A new user has no password;
// its username is username (or subject) with characters outside
// [A-Za-z0-9._@-] replaced by '_', suffixed with a hash of the identity
// when taken; an invalid email is dropped. Creation is audit-logged as
// "user.create_external" by the system. A locked user gets the same 401
// as a failed login. A user deleted before comes back as a new user, whose
// tokens issued before the deletion SessionValid refuses.
func (s *Service) ExternalUser(ctx context.Context, provider, subject, username, email string) (*User, error) {
	if provider == "" || subject == "" || len(provider) > 512 || len(subject) > 512 ||
		strings.ContainsRune(provider, 0) || strings.ContainsRune(subject, 0) || provider == ProviderLocal {
		return nil, engine.NewError(http.StatusBadRequest, engine.CodeBadRequest,
			"an external identity needs a provider and a subject of 1 to 512 characters")
	}
	extKey := provider + sep + subject
	find := func(tx engine.Tx) (*userRecord, error) {
		id, err := tx.Get(bucketUsersByExternal, extKey)
		if errors.Is(err, engine.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return userTx(tx, string(id))
	}
	var rec *userRecord
	err := s.w.View(ctx, func(tx engine.Tx) error {
		var err error
		rec, err = find(tx)
		return err
	})
	if err != nil {
		return nil, err
	}
	if rec == nil {
		if email != "" && !validEmail(email) {
			email = ""
		}
		err = s.w.Update(ctx, func(tx *viewtx.Tx) error {
			var err error
			if rec, err = find(tx); err != nil || rec != nil {
				return err // created meanwhile
			}
			name, err := externalUsername(tx, provider, subject, username)
			if err != nil {
				return err
			}
			rec = &userRecord{ID: uuid.NewString(), Username: name, Email: email, Provider: provider,
				Subject: subject, CreatedAt: s.now().UTC()}
			if err := s.insertUserTx(tx, rec); err != nil {
				return err
			}
			// An identity deleted before keeps its old tokens refused.
			gone, err := kvjson.Get[time.Time](tx, bucketExternalGone, extKey)
			if err == nil {
				err = s.putStandingTx(tx, rec.ID, &standing{Since: *gone})
			}
			if err != nil && !errors.Is(err, engine.ErrNotFound) {
				return err
			}
			return s.audit.Append(tx, audit.Actor{}, "user.create_external", rec.ID, "",
				map[string]any{"username": name, "provider": provider})
		})
		if err != nil {
			return nil, err
		}
	}
	if rec.Locked {
		return nil, invalidCredentials()
	}
	return rec.user(), nil
}

// externalUsername picks a free username for an external identity.
func externalUsername(tx engine.Tx, provider, subject, username string) (string, error) {
	if username == "" {
		username = subject
	}
	b := []byte(username)
	for i, c := range b {
		if !isLetter(c) && !isDigit(c) && c != '.' && c != '_' && c != '@' && c != '-' {
			b[i] = '_'
		}
	}
	name := string(b[:min(len(b), 100)])
	suffix := "-" + sha256Hex(provider + sep + subject)[:10]
	for _, cand := range []string{name, name[:min(len(name), 100-len(suffix))] + suffix} {
		taken, err := kvjson.Exists(tx, bucketUsersByName, nameKey(cand))
		if err != nil {
			return "", err
		}
		if !taken {
			return cand, nil
		}
	}
	return "", engine.Errorf(http.StatusConflict, CodeUsernameTaken, "username %q is taken", name)
}
