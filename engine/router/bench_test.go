package router_test

import (
	"testing"

	"github.com/dynapi/dynapi/engine/router"
)

// BenchmarkMatch serves the ~200 Open Banking routes of openBankingRoutes and
// matches requests typical of an account-information client, plus the
// failure paths.
func BenchmarkMatch(b *testing.B) {
	routes := openBankingRoutes()
	table, err := router.Build(routes)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%d routes", len(routes))
	cases := []struct{ name, method, path string }{
		{"static", "GET", "/open-banking/v4.0/aisp/accounts"},
		{"1param", "GET", "/open-banking/v4.0/aisp/accounts/22289/transactions"},
		{"2params", "GET", "/open-banking/v4.0/aisp/accounts/22289/statements/8812/transactions"},
		{"bank", "GET", "/banks/acme/open-banking/v4.0/aisp/accounts/22289/balances"},
		{"pisp", "GET", "/open-banking/v4.0/pisp/domestic-payments/P-001/payment-details"},
		{"head-fallback", "HEAD", "/open-banking/v4.0/aisp/accounts/22289"},
		{"405", "DELETE", "/open-banking/v4.0/aisp/accounts/22289"},
		{"404", "GET", "/open-banking/v4.0/aisp/accounts/22289/unknown"},
		{"escaped", "GET", "/open-banking/v4.0/aisp/accounts/a%20b/balances"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var ps router.Params
			if _, ok, allow := table.Match(c.method, c.path, &ps); !ok && allow == "" && c.name != "404" {
				b.Fatalf("%s %s did not match", c.method, c.path)
			}
			b.ReportAllocs()
			for b.Loop() {
				table.Match(c.method, c.path, &ps)
			}
		})
	}
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			var ps router.Params
			i := 0
			for pb.Next() {
				c := cases[i%4]
				table.Match(c.method, c.path, &ps)
				i++
			}
		})
	})
}

// BenchmarkBuild measures what a configuration change costs.
func BenchmarkBuild(b *testing.B) {
	routes := openBankingRoutes()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := router.Build(routes); err != nil {
			b.Fatal(err)
		}
	}
}
