// Package admin is the management API under /admin/v1: dynamic endpoints at
// system and bank level. Until users and roles exist it is guarded by one
// administrator bearer token, kept only as its SHA-256 hash.
package admin
