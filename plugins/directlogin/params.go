package directlogin

import (
	"errors"
	"strings"
)

// Parameter names a DirectLogin header carries.
const (
	paramUsername    = "username"
	paramPassword    = "password"
	paramConsumerKey = "consumer_key"
	paramToken       = "token"
)

// params are the DirectLogin parameters the plugin reads; others are
// ignored. Values are substrings of the header unless they held escapes.
type params struct {
	username, password, consumerKey, token string
}

// errMalformed reports a header that does not follow the parameter grammar.
// Its message never repeats any part of the header, which may hold a
// password.
var errMalformed = errors.New("directlogin: malformed parameters")

// errDuplicate reports a parameter given twice: which one wins would be a
// guess, and two layers guessing differently is a classic bypass.
var errDuplicate = errors.New("directlogin: duplicate parameter")

// parseParams reads a comma-separated list of name=value pairs, the form of
// the DirectLogin header and of the Authorization header after its
// "DirectLogin" scheme. A value is either a quoted string, in which a
// backslash escapes the next character (so commas and quotes may appear
// inside), or a bare run of characters up to the next comma, trimmed of
// surrounding blanks. Names are matched without regard to case; empty list
// elements are skipped. It runs in linear time and allocates only to
// unescape a quoted value holding backslashes.
func parseParams(s string) (params, error) {
	var p params
	var seen uint8
	i := 0
	for {
		// Skip blanks and empty list elements.
		for i < len(s) && (isBlank(s[i]) || s[i] == ',') {
			i++
		}
		if i == len(s) {
			return p, nil
		}
		start := i
		for i < len(s) && isNameChar(s[i]) {
			i++
		}
		name := s[start:i]
		if name == "" {
			return params{}, errMalformed
		}
		i = skipBlanks(s, i)
		if i == len(s) || s[i] != '=' {
			return params{}, errMalformed
		}
		i = skipBlanks(s, i+1)
		var value string
		if i < len(s) && s[i] == '"' {
			v, next, ok := quoted(s, i)
			if !ok {
				return params{}, errMalformed
			}
			value, i = v, skipBlanks(s, next)
			if i < len(s) && s[i] != ',' {
				return params{}, errMalformed
			}
		} else {
			start = i
			for i < len(s) && s[i] != ',' {
				if s[i] == '"' {
					return params{}, errMalformed
				}
				i++
			}
			value = strings.TrimRight(s[start:i], " \t")
		}
		var bit uint8
		var dst *string
		switch {
		case strings.EqualFold(name, paramUsername):
			bit, dst = 1, &p.username
		case strings.EqualFold(name, paramPassword):
			bit, dst = 2, &p.password
		case strings.EqualFold(name, paramConsumerKey):
			bit, dst = 4, &p.consumerKey
		case strings.EqualFold(name, paramToken):
			bit, dst = 8, &p.token
		default:
			continue
		}
		if seen&bit != 0 {
			return params{}, errDuplicate
		}
		seen |= bit
		*dst = value
	}
}

// quoted reads the quoted string opening at s[i] and returns its unescaped
// content and the index just after the closing quote.
func quoted(s string, i int) (value string, next int, ok bool) {
	start := i + 1
	escapes := false
	for j := start; j < len(s); j++ {
		switch s[j] {
		case '\\':
			escapes = true
			j++ // the next character is literal, even a quote
		case '"':
			if !escapes {
				return s[start:j], j + 1, true
			}
			return unescape(s[start:j]), j + 1, true
		}
	}
	return "", 0, false
}

// unescape drops the backslash of each backslash pair in a quoted string's
// content, which quoted has checked ends on no lone backslash.
func unescape(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func skipBlanks(s string, i int) int {
	for i < len(s) && isBlank(s[i]) {
		i++
	}
	return i
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

// isNameChar accepts the characters of an RFC 9110 token.
func isNameChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
