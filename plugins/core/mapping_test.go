package core

import (
	"strings"
	"testing"
)

// TestParseMappings: the embedded mappings load; a mapping with a member
// the connector does not know, a code the standard does not have or a
// default product it does not list is refused, naming what is wrong.
func TestParseMappings(t *testing.T) {
	uk, err := mappingFiles.ReadFile("mappings/" + ukMappingFile)
	if err != nil {
		t.Fatal(err)
	}
	bg, err := mappingFiles.ReadFile("mappings/" + bgMappingFile)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LoadMappings(""); err != nil {
		t.Fatalf("the embedded mappings: %v", err)
	}
	for _, tc := range []struct {
		name, from, to string
		berlin         bool
		want           string
	}{
		{"an unknown member", `"schemes"`, `"scheme_names": {}, "schemes"`, false, "unknown field"},
		{"a type code the standard lacks", `"type_code": "CACC"`, `"type_code": "CURRENT"`, false, `products.CURRENT.type_code "CURRENT"`},
		{"a balance type the version lacks", `["ITAV", "ITBD"]`, `["ITAV", "InterimBooked"]`, false, `versions.4.0.balance_types "InterimBooked"`},
		{"a default product not listed", `"default_product": "CURRENT"`, `"default_product": "LOAN"`, false, `default_product "LOAN"`},
		{"a status the standard lacks", `"closed": "Disabled"`, `"closed": "Closed"`, false, `account_statuses.closed "Closed"`},
		{"a Berlin Group member that is not a reference", `"MSISDN": "msisdn"`, `"MSISDN": "phone"`, true, `Berlin Group mapping: schemes.MSISDN "phone"`},
		{"a Berlin Group balance type the standard lacks", `"closingBooked"`, `"closing"`, true, `balance_types "closing"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, b := string(uk), string(bg)
			if tc.berlin {
				b = strings.Replace(b, tc.from, tc.to, 1)
			} else {
				u = strings.Replace(u, tc.from, tc.to, 1)
			}
			if u == string(uk) && b == string(bg) {
				t.Fatalf("%s is not in the mapping", tc.from)
			}
			_, err := ParseMappings([]byte(u), []byte(b))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v; want one naming %s", err, tc.want)
			}
		})
	}
}
