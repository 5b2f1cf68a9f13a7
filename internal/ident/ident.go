// Package ident holds the one rule for the ids of banks and of the records
// kept at a bank (accounts, counterparties, transaction requests):
// ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$. Access control, dynamic endpoints and
// the banking store all check ids with it, so an id one accepts is never
// refused by another.
package ident

// MaxLen is the longest id, in bytes.
const MaxLen = 128

// Rule says in words what Valid checks, for messages to clients.
const Rule = "a letter or digit then up to 127 letters, digits, '.', '_' or '-'"

// Valid tells whether id matches ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$.
func Valid(id string) bool {
	if id == "" || len(id) > MaxLen || !alnum(id[0]) {
		return false
	}
	for i := 1; i < len(id); i++ {
		if c := id[i]; !alnum(c) && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func alnum(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' }
