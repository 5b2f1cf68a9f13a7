package entities

import (
	"regexp"
	"strings"
)

// The two rewrites of OBP's snakify: an upper-case run before a capitalised
// word ("HTTPServer" -> "HTTP_Server"), and a lower-case letter or digit
// before an upper-case one ("loanOffer" -> "loan_Offer").
var (
	snakeUpperRun   = regexp.MustCompile(`([A-Z]+)([A-Z][a-z])`)
	snakeLowerUpper = regexp.MustCompile(`([a-z0-9])([A-Z])`)
)

// SnakeCase turns an entity name into OBP's snake case: "LoanOffer" ->
// "loan_offer", "FooBAR" -> "foo_bar", "HTTPServer" -> "http_server",
// "loan-offer" -> "loan_offer".
func SnakeCase(name string) string {
	s := strings.ReplaceAll(name, "-", "_")
	s = snakeUpperRun.ReplaceAllString(s, "${1}_${2}")
	s = snakeLowerUpper.ReplaceAllString(s, "${1}_${2}")
	return strings.ToLower(s)
}
