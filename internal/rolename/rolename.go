// Package rolename holds the rules for role names that documents, access
// control and the generated roles of dynamic endpoints and entities share:
// what a role name may be (Valid, Max), how a generated name is kept
// within that (Fit), and which verb names the role an HTTP method needs
// (VerbOf).
package rolename

import (
	"crypto/sha256"
	"encoding/hex"
)

// Max is the longest role name, in bytes.
const Max = 128

// Rule says in words what Valid checks, for messages to clients.
const Rule = "a role name is a letter then up to 127 letters, digits, '_', '.' or '-'"

// Valid tells whether name can name a role: a letter, then up to 127
// letters, digits, '_', '.' or '-'.
func Valid(name string) bool {
	if name == "" || len(name) > Max || !letter(name[0]) {
		return false
	}
	for i := 1; i < len(name); i++ {
		if c := name[i]; !letter(c) && !digit(c) && c != '_' && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

func letter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func digit(c byte) bool  { return '0' <= c && c <= '9' }

// hashLen is the number of hex digits of the hash Fit appends.
const hashLen = 10

// Fit returns name when it is at most Max bytes long; else its first bytes
// followed by '_' and hex digits of a hash of the whole name, Max bytes in
// all. The result is deterministic, so a generated role keeps its name
// across restarts, and two long names differing anywhere get different
// results (up to a hash collision).
func Fit(name string) string {
	if len(name) <= Max {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	return name[:Max-1-hashLen] + "_" + hex.EncodeToString(sum[:])[:hashLen]
}

// Verb names the action of a role: the <Verb> of generated role names
// such as Can<Verb>DynamicEndpoint_<operationId>.
type Verb string

// The verbs of generated roles, as the Open Bank Project names them.
const (
	Get     Verb = "Get"
	Create  Verb = "Create"
	Update  Verb = "Update"
	Patch   Verb = "Patch"
	Delete  Verb = "Delete"
	Options Verb = "Options"
	Trace   Verb = "Trace"
)

// VerbOf is the verb of the role an HTTP method needs: GET and HEAD read,
// POST creates, PUT updates, PATCH patches. It is "" for a method it does
// not know.
func VerbOf(method string) Verb {
	switch method {
	case "GET", "HEAD":
		return Get
	case "POST":
		return Create
	case "PUT":
		return Update
	case "PATCH":
		return Patch
	case "DELETE":
		return Delete
	case "OPTIONS":
		return Options
	case "TRACE":
		return Trace
	}
	return ""
}
