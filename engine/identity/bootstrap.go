package identity

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/viewtx"
	"github.com/dynapi/dynapi/internal/kvjson"
)

// BootstrapOptions configures the first start. Empty fields get defaults:
// username "admin", a generated password, a generated consumer key and
// secret.
type BootstrapOptions struct {
	AdminUsername, AdminPassword, ConsumerKey, ConsumerSecret string
}

// BootstrapResult says what Bootstrap did. The generated credentials are
// set only on the start that created them and are shown nowhere else: the
// caller prints them once and must not log them elsewhere.
type BootstrapResult struct {
	AdminUsername, GeneratedPassword, ConsumerKey, GeneratedConsumerSecret string
	// Created is true on the start that created the admin and consumer.
	Created bool
	// AdminUserID is the super admin's id, on every start.
	AdminUserID string
}

// GrantAdmin grants the super admin adminID its roles inside the
// transaction that creates it, returning how many it granted.
type GrantAdmin func(tx *viewtx.Tx, adminID string) (int, error)

// bootstrapMarker is stored once per store, under bucketMeta/"bootstrap".
type bootstrapMarker struct {
	AdminUserID   string    `json:"admin_user_id"`
	AdminUsername string    `json:"admin_username"`
	ConsumerID    string    `json:"consumer_id"`
	ConsumerKey   string    `json:"consumer_key"`
	At            time.Time `json:"at"`
}

const markerKey = "bootstrap"

// Bootstrap prepares a store on its first start (once per store, recorded
// by a marker): it creates the super admin, granted its roles by grant,
// and the first consumer, created by that admin, in one transaction
// audit-logged as "bootstrap" (with the user, grants and consumer). A
// configured password must satisfy the policy. On later starts it creates
// nothing (Created=false) and returns the super admin's id, which may
// have been deleted since.
func (s *Service) Bootstrap(ctx context.Context, opts BootstrapOptions, grant GrantAdmin) (*BootstrapResult, error) {
	var marker *bootstrapMarker
	err := s.w.View(ctx, func(tx engine.Tx) error {
		m, err := kvjson.Get[bootstrapMarker](tx, bucketMeta, markerKey)
		if errors.Is(err, engine.ErrNotFound) {
			return nil
		}
		marker = m
		return err
	})
	if err != nil {
		return nil, err
	}
	if marker != nil {
		return &BootstrapResult{AdminUsername: marker.AdminUsername, ConsumerKey: marker.ConsumerKey,
			AdminUserID: marker.AdminUserID}, nil
	}

	res := &BootstrapResult{AdminUsername: opts.AdminUsername, ConsumerKey: opts.ConsumerKey}
	if res.AdminUsername == "" {
		res.AdminUsername = "admin"
	}
	password := opts.AdminPassword
	if password == "" {
		password = s.policy.generatePassword()
		res.GeneratedPassword = password
	}
	if res.ConsumerKey == "" {
		res.ConsumerKey = randomToken()
	}
	secret := opts.ConsumerSecret
	if secret == "" {
		secret = randomToken()
		res.GeneratedConsumerSecret = secret
	}
	if faults := s.bootstrapFaults(res.AdminUsername, password, res.ConsumerKey, secret); faults != nil {
		return nil, engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed,
			"the configured super admin or first consumer is not valid", faults...)
	}
	hash, err := s.hashPW(ctx, password)
	if err != nil {
		return nil, err
	}
	raced := false
	err = s.w.Update(ctx, func(tx *viewtx.Tx) error {
		if ok, err := kvjson.Exists(tx, bucketMeta, markerKey); err != nil || ok {
			raced = ok
			return err
		}
		system := audit.Actor{}
		rec := &userRecord{ID: uuid.NewString(), Username: res.AdminUsername, Provider: ProviderLocal,
			CreatedAt: s.now().UTC(), PasswordHash: hash}
		res.AdminUserID = rec.ID
		if err := s.insertUserTx(tx, rec); err != nil {
			return err
		}
		if err := s.audit.Append(tx, system, "user.create", rec.ID, "", map[string]any{"username": rec.Username}); err != nil {
			return err
		}
		granted, err := grant(tx, rec.ID)
		if err != nil {
			return err
		}
		c, err := s.createConsumerTx(tx, audit.Actor{UserID: rec.ID}, "bootstrap", res.ConsumerKey, secret, nil)
		if err != nil {
			return err
		}
		m := &bootstrapMarker{AdminUserID: rec.ID, AdminUsername: rec.Username, ConsumerID: c.ID,
			ConsumerKey: c.Key, At: s.now().UTC()}
		if err := kvjson.Put(tx, bucketMeta, markerKey, m); err != nil {
			return err
		}
		return s.audit.Append(tx, system, "bootstrap", rec.ID, "", map[string]any{
			"admin_username": rec.Username, "consumer_id": c.ID, "roles_granted": granted})
	})
	if err != nil {
		return nil, err
	}
	if raced { // another start bootstrapped meanwhile
		return s.Bootstrap(ctx, opts, grant)
	}
	res.Created = true
	return res, nil
}

// Where a violation Bootstrap reports lies: Location BootstrapLocation and
// one of these pointers, naming the BootstrapOptions field at fault, so the
// caller can name the setting it came from.
const (
	BootstrapLocation       = "bootstrap"
	BootstrapAdminUsername  = "/admin_username"
	BootstrapAdminPassword  = "/admin_password"
	BootstrapConsumerKey    = "/consumer_key"
	BootstrapConsumerSecret = "/consumer_secret"
)

// bootstrapFaults checks every bootstrap credential before anything is
// hashed or written, each violation pointing at the option at fault.
func (s *Service) bootstrapFaults(username, password, key, secret string) []engine.Violation {
	var out []engine.Violation
	if !validUsername(username) {
		out = append(out, engine.Violation{Pointer: BootstrapAdminUsername, Code: "pattern",
			Message: "the admin username must be 1 to 100 letters, digits, '.', '_', '@' or '-'"})
	}
	for _, v := range s.policy.Check(password) {
		v.Pointer = BootstrapAdminPassword
		out = append(out, v)
	}
	// Its pointers are BootstrapConsumerKey and BootstrapConsumerSecret.
	out = append(out, consumerFaults("bootstrap", key, secret, nil)...)
	for i := range out {
		out[i].Location = BootstrapLocation
	}
	return out
}
