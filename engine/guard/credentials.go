package guard

import (
	"bytes"
	"net/http"

	"github.com/dynapi/dynapi/engine"
)

// CredentialField reports whether a request header field named name
// (in any case) carries credentials: Authorization (DirectLogin, Bearer or
// Basic) and OBP's DirectLogin.
func CredentialField(name []byte) bool {
	switch len(name) {
	case len("Authorization"):
		return bytes.EqualFold(name, []byte("Authorization"))
	case len("DirectLogin"):
		return bytes.EqualFold(name, []byte("DirectLogin"))
	}
	return false
}

// OneCredential refuses a request that carries more than one credential:
// lines is the number of non-empty lines among its credential fields
// (CredentialField), whether two Authorization lines, two DirectLogin
// lines, or one of each (a DirectLogin login header beside a token is two
// credentials too). Which one counted would depend on which authenticator
// read first, and a proxy in front may have checked the other. Empty lines
// carry nothing and are not counted. It runs on every request, at the
// edge, before any authenticator.
func OneCredential(lines int) *engine.Error {
	if lines <= 1 {
		return nil
	}
	return engine.NewError(http.StatusBadRequest, engine.CodeAmbiguousCredentials,
		"the request carries more than one credential: send one Authorization or one DirectLogin header")
}
