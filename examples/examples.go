// Package examples holds runnable API descriptions shipped with dynapi. The
// server preloads BankAccounts at first start, so a new installation answers
// requests at once.
package examples

import _ "embed"

// BankAccounts is a small OpenAPI 3.0 account-information API with examples
// and validation rules, served under /example/v1.
//
//go:embed bank-accounts/openapi.yaml
var BankAccounts []byte
