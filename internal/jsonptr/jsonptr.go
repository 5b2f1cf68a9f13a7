// Package jsonptr implements JSON Pointer (RFC 6901): escaping and
// unescaping reference tokens, building pointers from tokens and looking a
// pointer up in a decoded JSON value. It is the one place the engine
// spells "~0" and "~1".
package jsonptr

import (
	"strconv"
	"strings"
)

var (
	escaper   = strings.NewReplacer("~", "~0", "/", "~1")
	unescaper = strings.NewReplacer("~1", "/", "~0", "~")
)

// Escape turns a member name or index into a reference token: '~' becomes
// "~0" and '/' becomes "~1".
func Escape(token string) string {
	if !strings.ContainsAny(token, "~/") {
		return token
	}
	return escaper.Replace(token)
}

// Unescape turns a reference token back into the member name it stands
// for: "~1" becomes '/' and "~0" becomes '~', in one pass, so "~01" is
// "~1".
func Unescape(token string) string {
	if !strings.Contains(token, "~") {
		return token
	}
	return unescaper.Replace(token)
}

// Append joins tokens onto base, a pointer ("" for the whole document),
// escaping each token.
func Append(base string, tokens ...string) string {
	n := len(base)
	for _, t := range tokens {
		n += 1 + len(t)
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(base)
	for _, t := range tokens {
		b.WriteByte('/')
		if strings.ContainsAny(t, "~/") {
			escaper.WriteString(&b, t)
		} else {
			b.WriteString(t)
		}
	}
	return b.String()
}

// Lookup resolves pointer ("" or "/a/0/b", no leading '#') inside doc, a
// value decoded from JSON (maps with string keys, slices, scalars). It
// reports false when the pointer is malformed or names nothing: a missing
// member, a '~' that does not start "~0" or "~1", an index that is not a
// decimal number inside the array, or a step into a scalar.
func Lookup(doc any, pointer string) (any, bool) {
	if pointer == "" {
		return doc, true
	}
	if pointer[0] != '/' {
		return nil, false
	}
	cur := doc
	for rest := pointer[1:]; ; {
		tok, after, more := strings.Cut(rest, "/")
		switch v := cur.(type) {
		case map[string]any:
			if !wellEscaped(tok) {
				return nil, false
			}
			next, ok := v[Unescape(tok)]
			if !ok {
				return nil, false
			}
			cur = next
		case []any:
			i, ok := index(tok)
			if !ok || i >= len(v) {
				return nil, false
			}
			cur = v[i]
		default:
			return nil, false
		}
		if !more {
			return cur, true
		}
		rest = after
	}
}

// wellEscaped tells whether every '~' of tok starts "~0" or "~1".
func wellEscaped(tok string) bool {
	for i := strings.IndexByte(tok, '~'); i >= 0; i = strings.IndexByte(tok, '~') {
		if i+1 == len(tok) || tok[i+1] != '0' && tok[i+1] != '1' {
			return false
		}
		tok = tok[i+2:]
	}
	return true
}

// index parses an array index token: "0" or a decimal number without a
// leading zero (RFC 6901 section 4).
func index(tok string) (int, bool) {
	if tok == "" || len(tok) > 1 && tok[0] == '0' || tok[0] < '0' || tok[0] > '9' {
		return 0, false
	}
	i, err := strconv.Atoi(tok)
	return i, err == nil
}
