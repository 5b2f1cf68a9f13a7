package consentauth

import "net/url"

// permissionText says in plain language what each UK Open Banking
// account-information permission lets a TPP see.
var permissionText = map[string]string{
	"ReadAccountsBasic":           "Your account names and types",
	"ReadAccountsDetail":          "Your account names, types, numbers and sort codes",
	"ReadBalances":                "Your account balances",
	"ReadBeneficiariesBasic":      "The names of the payees you saved",
	"ReadBeneficiariesDetail":     "The payees you saved, with their account details",
	"ReadDirectDebits":            "Your direct debits",
	"ReadOffers":                  "Offers the bank made you",
	"ReadPAN":                     "Your full card numbers",
	"ReadParty":                   "Details of the account holders",
	"ReadPartyPSU":                "Your own name, address and contact details",
	"ReadProducts":                "The products your accounts are",
	"ReadScheduledPaymentsBasic":  "Your scheduled payments",
	"ReadScheduledPaymentsDetail": "Your scheduled payments, with who they pay",
	"ReadStandingOrdersBasic":     "Your standing orders",
	"ReadStandingOrdersDetail":    "Your standing orders, with who they pay",
	"ReadStatementsBasic":         "Your statements",
	"ReadStatementsDetail":        "Your statements, with every amount in them",
	"ReadTransactionsBasic":       "Your transactions",
	"ReadTransactionsCredits":     "Money coming into your accounts",
	"ReadTransactionsDebits":      "Money going out of your accounts",
	"ReadTransactionsDetail":      "Your transactions, with their full details",
}

// describe is each permission with its plain-language text (its code
// when it has none).
func describe(codes []string) []Permission {
	out := make([]Permission, len(codes))
	for i, c := range codes {
		text, ok := permissionText[c]
		if !ok {
			text = c
		}
		out[i] = Permission{Code: c, Text: text}
	}
	return out
}

// origin is the scheme and host of a URL ("" if it has none).
func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
