// Package textcut cuts text to a size in bytes without splitting a
// character, for fields the standards bound.
package textcut

import "unicode/utf8"

// Bytes is s cut to at most n bytes, on a rune boundary.
func Bytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
