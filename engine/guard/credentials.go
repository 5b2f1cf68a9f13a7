package guard

import (
	"net/http"

	"github.com/dynapi/dynapi/engine"
)

// credentialFields are the request header fields that carry credentials:
// Authorization (DirectLogin, Bearer or Basic) and OBP's DirectLogin.
var credentialFields = [...]string{"Authorization", "DirectLogin"}

// HeaderLines reads every line of a request header field;
// *fasthttp.RequestHeader has it.
type HeaderLines interface {
	PeekAll(name string) [][]byte
}

// OneCredential refuses a request that carries more than one credential:
// more than one non-empty line among the credential fields, whether two
// Authorization lines, two DirectLogin lines, or one of each (a DirectLogin
// login header beside a token is two credentials too). Which one counted
// would depend on which authenticator read first, and a proxy in front may
// have checked the other. Empty lines carry nothing and are not counted.
// It runs on every request, at the edge, before any authenticator.
func OneCredential(h HeaderLines) *engine.Error {
	n := 0
	for _, name := range credentialFields {
		for _, v := range h.PeekAll(name) {
			if len(v) > 0 {
				n++
			}
		}
	}
	if n <= 1 {
		return nil
	}
	return engine.NewError(http.StatusBadRequest, engine.CodeAmbiguousCredentials,
		"the request carries more than one credential: send one Authorization or one DirectLogin header")
}
