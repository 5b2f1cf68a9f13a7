package access

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/dynapi/dynapi/engine"
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
func (s *Service) CreateUser(ctx context.Context, a Actor, in NewUser) (*User, error) {
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
	err = s.update(ctx, func(tx engine.Tx, _ *change) error {
		if err := s.insertUserTx(tx, rec); err != nil {
			return err
		}
		return s.AuditTx(tx, a, "user.create", rec.ID, "", map[string]any{"username": rec.Username})
	})
	if err != nil {
		return nil, err
	}
	return rec.user(), nil
}

// insertUserTx stores a new user and its indexes.
func (s *Service) insertUserTx(tx engine.Tx, rec *userRecord) error {
	taken, err := exists(tx, bucketUsersByName, nameKey(rec.Username))
	if err != nil {
		return err
	}
	if taken {
		return engine.Errorf(http.StatusConflict, CodeUsernameTaken, "username %q is taken", rec.Username)
	}
	if err := putJSON(tx, bucketUsers, rec.ID, rec); err != nil {
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
	rec, err := getJSON[userRecord](tx, bucketUsers, id)
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
	rec, err := getJSON[userRecord](tx, bucketUsers, string(id))
	if errors.Is(err, engine.ErrNotFound) {
		return nil, nil
	}
	return rec, err
}

// User returns the user with id, or a 404. PasswordHash is never filled
// in by this or any other method.
func (s *Service) User(ctx context.Context, id string) (*User, error) {
	var out *User
	err := s.view(ctx, func(tx engine.Tx) error {
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
	err := s.view(ctx, func(tx engine.Tx) error {
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
	err = s.view(ctx, func(tx engine.Tx) error {
		users, next = nil, ""
		var last string
		err := scanAfter(tx, bucketUsersByName, from, usernameAlphabet, func(k string, v []byte) error {
			if len(users) == limit {
				next = base64.RawURLEncoding.EncodeToString([]byte(last))
				return errStop
			}
			rec, err := getJSON[userRecord](tx, bucketUsers, string(v))
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
		if errors.Is(err, errStop) {
			return nil
		}
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return users, next, nil
}

// SetLocked locks or unlocks a user: a locked user cannot log in.
// Unlocking also clears the user's failed-login count. Audit-logged as
// "user.lock" or "user.unlock".
func (s *Service) SetLocked(ctx context.Context, a Actor, id string, locked bool) (*User, error) {
	var out *User
	err := s.update(ctx, func(tx engine.Tx, _ *change) error {
		rec, err := userTx(tx, id)
		if err != nil {
			return err
		}
		rec.Locked = locked
		if err := putJSON(tx, bucketUsers, rec.ID, rec); err != nil {
			return err
		}
		out = rec.user()
		action := "user.unlock"
		if locked {
			action = "user.lock"
		}
		return s.AuditTx(tx, a, action, rec.ID, "", map[string]any{"username": rec.Username})
	})
	if err != nil {
		return nil, err
	}
	if !locked {
		s.throttle.reset(nameKey(out.Username))
	}
	return out, nil
}

// SetPassword replaces a user's password, checked against the policy like
// CreateUser's. Audit-logged as "user.set_password" (without the
// password).
func (s *Service) SetPassword(ctx context.Context, a Actor, id, password string) (*User, error) {
	if err := s.policy.checkPassword(password); err != nil {
		return nil, err
	}
	hash, err := s.hashPW(ctx, password)
	if err != nil {
		return nil, err
	}
	var out *User
	err = s.update(ctx, func(tx engine.Tx, _ *change) error {
		rec, err := userTx(tx, id)
		if err != nil {
			return err
		}
		rec.PasswordHash = hash
		if err := putJSON(tx, bucketUsers, rec.ID, rec); err != nil {
			return err
		}
		out = rec.user()
		return s.AuditTx(tx, a, "user.set_password", rec.ID, "", map[string]any{"username": rec.Username})
	})
	return out, err
}

// DeleteUser deletes a user with its entitlements and entitlement
// requests; a 404 when missing. Consumers it created stay. Audit-logged
// as "user.delete", and each entitlement as "entitlement.delete".
func (s *Service) DeleteUser(ctx context.Context, a Actor, id string) error {
	var name string
	err := s.update(ctx, func(tx engine.Tx, ch *change) error {
		rec, err := userTx(tx, id)
		if err != nil {
			return err
		}
		name = rec.Username
		var ents []string
		err = tx.Scan(bucketEntsByUser, id+sep, func(k string, _ []byte) error {
			ents = append(ents, k[len(id)+1:])
			return nil
		})
		if err != nil {
			return err
		}
		for _, eid := range ents {
			e, err := getJSON[Entitlement](tx, bucketEnts, eid)
			if errors.Is(err, engine.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if err := s.deleteEntitlementTx(tx, ch, a, e, "entitlement.delete", "user deleted"); err != nil {
				return err
			}
		}
		if err := s.deleteRequestsTx(tx, func(r *EntitlementRequest) bool { return r.UserID == id }); err != nil {
			return err
		}
		if rec.Subject != "" {
			if err := tx.Delete(bucketUsersByExternal, rec.Provider+sep+rec.Subject); err != nil {
				return err
			}
		}
		if err := tx.Delete(bucketUsersByName, nameKey(rec.Username)); err != nil {
			return err
		}
		if err := tx.Delete(bucketUsers, id); err != nil {
			return err
		}
		return s.AuditTx(tx, a, "user.delete", id, "", map[string]any{"username": rec.Username})
	})
	if err == nil {
		s.throttle.reset(nameKey(name))
	}
	return err
}

// invalidCredentials is the one error of every failed login.
func invalidCredentials() *engine.Error {
	return engine.NewError(http.StatusUnauthorized, engine.CodeUnauthorized, "invalid credentials")
}

// CheckPassword checks a login. It is throttled per username and per
// clientAddr ("" skips the address): after MaxFailures failures within
// Window, attempts fail for Lockout without the password being checked.
// Every failure - unknown user, user without a password, wrong password,
// locked user, throttled - is the same 401 (code "unauthorized", message
// "invalid credentials"), and all but the throttled one hash a password,
// so neither the answer nor its time tells whether a user exists. A
// success clears the username's failures (not the address's).
func (s *Service) CheckPassword(ctx context.Context, username, password, clientAddr string) (*User, error) {
	userKey := ""
	if validUsername(username) {
		userKey = nameKey(username)
	}
	if !s.throttle.begin(userKey, clientAddr, s.now()) {
		return nil, invalidCredentials()
	}
	var rec *userRecord
	err := s.view(ctx, func(tx engine.Tx) error {
		if userKey == "" {
			return nil
		}
		var err error
		rec, err = userByNameTx(tx, username)
		return err
	})
	if err != nil {
		s.throttle.abort(userKey, clientAddr)
		return nil, err
	}
	hash := ""
	if rec != nil {
		hash = rec.PasswordHash
	}
	ok, err := s.verifyPW(ctx, hash, password)
	if err != nil {
		s.throttle.abort(userKey, clientAddr)
		return nil, err
	}
	if !ok || rec.Locked {
		s.throttle.fail(userKey, clientAddr, s.now())
		return nil, invalidCredentials()
	}
	s.throttle.succeed(userKey, clientAddr)
	return rec.user(), nil
}

// ExternalUser finds or creates the user of an external identity: subject
// at provider (an issuer), unique together. A new user has no password;
// its username is username (or subject) with characters outside
// [A-Za-z0-9._@-] replaced by '_', suffixed with a hash of the identity
// when taken; an invalid email is dropped. Creation is audit-logged as
// "user.create_external" by the system. A locked user gets the same 401
// as a failed login.
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
	err := s.view(ctx, func(tx engine.Tx) error {
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
		err = s.update(ctx, func(tx engine.Tx, _ *change) error {
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
			return s.AuditTx(tx, Actor{}, "user.create_external", rec.ID, "",
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
		taken, err := exists(tx, bucketUsersByName, nameKey(cand))
		if err != nil {
			return "", err
		}
		if !taken {
			return cand, nil
		}
	}
	return "", engine.Errorf(http.StatusConflict, CodeUsernameTaken, "username %q is taken", name)
}
