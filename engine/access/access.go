// Package access holds who may do what: users, consumer apps, banks, roles,
// entitlements, entitlement requests, login throttling and the audit log,
// all persisted in an engine.Store.
//
// The request path never reads the store: Service keeps an immutable
// in-memory view of entitlements (and of enabled consumers), rebuilt and
// swapped atomically after every change, so a guard check is a map lookup
// without locks; likewise the standing of users whose tokens a lock, a
// delete or a password change ended, which every authenticator consults.
package access

import (
	"time"

	"github.com/dynapi/dynapi/engine"
)

// Role is a name plus whether it is granted at one bank or system wide.
type Role struct {
	Name           string `json:"role_name"`
	RequiresBankID bool   `json:"requires_bank_id"`
	// Dynamic roles are created with a dynamic endpoint or entity and go
	// when it goes.
	Dynamic bool `json:"dynamic"`
}

// User is a person or system that logs in. PasswordHash never leaves this
// package in a response.
type User struct {
	ID           string    `json:"user_id"`
	Username     string    `json:"username"`
	Email        string    `json:"email,omitempty"`
	Provider     string    `json:"provider"` // "local", or the issuer of an external identity
	Locked       bool      `json:"locked"`
	CreatedAt    time.Time `json:"created_at"`
	PasswordHash string    `json:"-"`
}

// Consumer is a client application. Its secret is shown once at creation
// and kept only as a hash.
type Consumer struct {
	ID         string    `json:"consumer_id"`
	Key        string    `json:"consumer_key"`
	Name       string    `json:"name"`
	Enabled    bool      `json:"enabled"`
	CreatedBy  string    `json:"created_by_user_id,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	SecretHash string    `json:"-"`
}

// Bank is a space that bank-level documents, entities and entitlements
// belong to.
type Bank struct {
	ID        string    `json:"bank_id"`
	ShortName string    `json:"short_name"`
	FullName  string    `json:"full_name"`
	Logo      string    `json:"logo,omitempty"`
	Website   string    `json:"website,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Entitlement grants a role to a user, at a bank or (BankID "") system
// wide.
type Entitlement struct {
	ID        string    `json:"entitlement_id"`
	UserID    string    `json:"user_id"`
	BankID    string    `json:"bank_id"`
	RoleName  string    `json:"role_name"`
	CreatedAt time.Time `json:"created_at"`
}

// EntitlementRequest is a user asking for a role.
type EntitlementRequest struct {
	ID        string    `json:"entitlement_request_id"`
	UserID    string    `json:"user_id"`
	BankID    string    `json:"bank_id"`
	RoleName  string    `json:"role_name"`
	Status    string    `json:"status"` // pending, granted, rejected
	CreatedAt time.Time `json:"created_at"`
}

// Principal is an authenticated caller; the type lives in the kernel so
// connectors can read it without importing this package.
type Principal = engine.Principal
