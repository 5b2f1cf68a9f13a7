package router_test

import (
	"strings"

	"github.com/dynapi/dynapi/engine/router"
)

// Operations of the UK Open Banking read/write APIs, relative to their
// standard's base path, as the benchmark and allocation tests serve them.
var (
	obAISP = []string{
		"POST /account-access-consents",
		"GET /account-access-consents/{ConsentId}",
		"DELETE /account-access-consents/{ConsentId}",
		"GET /accounts",
		"GET /accounts/{AccountId}",
		"GET /accounts/{AccountId}/balances",
		"GET /balances",
		"GET /accounts/{AccountId}/beneficiaries",
		"GET /beneficiaries",
		"GET /accounts/{AccountId}/direct-debits",
		"GET /direct-debits",
		"GET /accounts/{AccountId}/standing-orders",
		"GET /standing-orders",
		"GET /accounts/{AccountId}/product",
		"GET /products",
		"GET /accounts/{AccountId}/offers",
		"GET /offers",
		"GET /accounts/{AccountId}/party",
		"GET /accounts/{AccountId}/parties",
		"GET /party",
		"GET /accounts/{AccountId}/scheduled-payments",
		"GET /scheduled-payments",
		"GET /accounts/{AccountId}/statements",
		"GET /accounts/{AccountId}/statements/{StatementId}",
		"GET /accounts/{AccountId}/statements/{StatementId}/file",
		"GET /accounts/{AccountId}/statements/{StatementId}/transactions",
		"GET /statements",
		"GET /accounts/{AccountId}/transactions",
		"GET /transactions",
	}
	obPISP = func() []string {
		var ops []string
		for _, kind := range []string{"domestic", "domestic-scheduled", "domestic-standing-order", "international",
			"international-scheduled", "international-standing-order", "file"} {
			consents, payments := "/"+kind+"-payment-consents", "/"+kind+"-payments"
			switch kind {
			case "domestic-standing-order", "international-standing-order":
				consents, payments = "/"+kind+"-consents", "/"+kind+"s"
			case "domestic-scheduled", "international-scheduled":
				consents, payments = "/"+kind+"-payment-consents", "/"+kind+"-payments"
			}
			ops = append(ops,
				"POST "+consents,
				"GET "+consents+"/{ConsentId}",
				"POST "+payments,
				"GET "+payments+"/{PaymentId}",
				"GET "+payments+"/{PaymentId}/payment-details")
			switch kind {
			case "domestic", "international", "international-scheduled":
				ops = append(ops, "GET "+consents+"/{ConsentId}/funds-confirmation")
			case "file":
				ops = append(ops, "POST "+consents+"/{ConsentId}/file", "GET "+consents+"/{ConsentId}/file",
					"GET "+payments+"/{PaymentId}/report-file")
			}
		}
		return ops
	}()
	obCBPII = []string{
		"POST /funds-confirmation-consents",
		"GET /funds-confirmation-consents/{ConsentId}",
		"DELETE /funds-confirmation-consents/{ConsentId}",
		"POST /funds-confirmations",
	}
	obVRP = []string{
		"POST /domestic-vrp-consents",
		"GET /domestic-vrp-consents/{ConsentId}",
		"DELETE /domestic-vrp-consents/{ConsentId}",
		"POST /domestic-vrp-consents/{ConsentId}/funds-confirmation",
		"POST /domestic-vrps",
		"GET /domestic-vrps/{DomesticVRPId}",
		"GET /domestic-vrps/{DomesticVRPId}/payment-details",
	}
	obEvents = []string{
		"POST /event-notifications",
		"POST /event-subscriptions",
		"GET /event-subscriptions",
		"PUT /event-subscriptions/{EventSubscriptionId}",
		"DELETE /event-subscriptions/{EventSubscriptionId}",
		"POST /events",
	}
)

// openBankingRoutes returns about 200 routes: the Open Banking APIs in two
// versions, plus the account-information API mounted under two banks, the
// way dynamic endpoints are served. Each value is "METHOD template".
func openBankingRoutes() []router.Route[string] {
	var routes []router.Route[string]
	add := func(owner, base string, ops []string) {
		for _, op := range ops {
			method, path, _ := strings.Cut(op, " ")
			routes = append(routes, router.Route[string]{Method: method, Template: base + path, Owner: owner,
				Value: method + " " + base + path})
		}
	}
	for _, v := range []string{"v3.1", "v4.0"} {
		add("ob-aisp-"+v, "/open-banking/"+v+"/aisp", obAISP)
		add("ob-pisp-"+v, "/open-banking/"+v+"/pisp", obPISP)
		add("ob-cbpii-"+v, "/open-banking/"+v+"/cbpii", obCBPII)
		add("ob-events-"+v, "/open-banking/"+v, obEvents)
	}
	add("ob-vrp-v4.0", "/open-banking/v4.0/pisp", obVRP)
	for _, bank := range []string{"acme"} {
		add(bank+"-aisp", "/banks/"+bank+"/open-banking/v4.0/aisp", obAISP)
	}
	return routes
}
