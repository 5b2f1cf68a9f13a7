package guard

import (
	"net/http"
	"strings"

	"github.com/dynapi/dynapi/engine"
)

// CredentialFields are the request header fields that carry credentials,
// in canonical spelling: Authorization (DirectLogin, Bearer or Basic) and
// OBP's DirectLogin.
var CredentialFields = [...]string{"Authorization", "DirectLogin"}

// CredentialField reports whether a request header field named name (in
// any case) carries credentials, and which of CredentialFields it is.
func CredentialField[T ~string | ~[]byte](name T) (int, bool) {
	for i, f := range CredentialFields {
		if len(name) == len(f) && (string(name) == f || strings.EqualFold(string(name), f)) {
			return i, true
		}
	}
	return -1, false
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
