package entities

import "strings"

// SnakeCase turns an entity name into OBP's snake case: "LoanOffer" ->
// "loan_offer", "FooBAR" -> "foo_bar", "HTTPServer" -> "http_server",
// "loan-offer" -> "loan_offer". It applies OBP snakify's two rewrites in
// turn: an underscore before the last letter of an upper-case run that a
// lower-case letter follows ("HTTPServer" -> "HTTP_Server"), then one
// between a lower-case letter or digit and an upper-case letter
// ("loanOffer" -> "loan_Offer"); then it lowers the case. Record answers
// name their member with it on every request, so it works on bytes
// rather than with regular expressions.
func SnakeCase(name string) string {
	s := strings.ReplaceAll(name, "-", "_")
	b := make([]byte, 0, len(s)+len(s)/2)
	// The first rewrite: an upper-case run of two or more letters before
	// a lower-case letter.
	for i := 0; i < len(s); {
		if !isUpper(s[i]) {
			b = append(b, s[i])
			i++
			continue
		}
		end := i
		for end < len(s) && isUpper(s[end]) {
			end++
		}
		if end-i >= 2 && end < len(s) && isLower(s[end]) {
			b = append(append(append(b, s[i:end-1]...), '_'), s[end-1])
		} else {
			b = append(b, s[i:end]...)
		}
		i = end
	}
	// The second, on the first's result.
	out := make([]byte, 0, len(b)+len(b)/2)
	for i := range b {
		out = append(out, b[i])
		if (isLower(b[i]) || '0' <= b[i] && b[i] <= '9') && i+1 < len(b) && isUpper(b[i+1]) {
			out = append(out, '_')
		}
	}
	return strings.ToLower(string(out))
}

func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }
func isLower(c byte) bool { return 'a' <= c && c <= 'z' }
