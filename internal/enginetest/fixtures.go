package enginetest

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// The fixtures below set up, over the management and banking APIs, what
// scenarios in several packages start from. Each says who makes the
// change: the super admin, or the holder of a token.

// created posts v as JSON as c and returns the field named id of the
// answer, failing the test unless the answer is a 201.
func (c Caller) created(t testing.TB, what, path string, v any, id string) string {
	t.Helper()
	r := c.PostJSON(t, path, v)
	if r.Status != http.StatusCreated {
		t.Fatalf("%s as %s: %d %s", what, c, r.Status, r.Body)
	}
	s, _ := r.JSON(t)[id].(string)
	return s
}

// CreateEntity defines a dynamic entity as the super admin, posting def
// (JSON) to path, and returns the definition's id.
func (e *Engine) CreateEntity(t testing.TB, path, def string) string {
	t.Helper()
	return e.Admin().created(t, "define entity", path, def, "dynamic_entity_id")
}

// CreateScript makes a JavaScript connector method as the super admin and
// returns its id; timeoutMS 0 keeps the default timeout.
func (e *Engine) CreateScript(t testing.TB, method, body string, timeoutMS int) string {
	t.Helper()
	in := map[string]any{"method_name": method, "method_body": body, "programming_lang": "js"}
	if timeoutMS > 0 {
		in["timeout_ms"] = timeoutMS
	}
	return e.Admin().created(t, "create connector method "+method, "/admin/v1/connector-methods", in, "connector_method_id")
}

// CreateRouting makes a method routing as the super admin and returns its
// id.
func (e *Engine) CreateRouting(t testing.TB, routing map[string]any) string {
	t.Helper()
	return e.Admin().created(t, "create method routing", "/admin/v1/method-routings", routing, "method_routing_id")
}

// AdminID is the super admin's user id.
func (e *Engine) AdminID(t testing.TB) string {
	t.Helper()
	id, _ := e.Admin().Get(t, "/my/user").JSON(t)["user_id"].(string)
	return id
}

// GrantAdmin gives the super admin a role at a bank ("" for a system
// role).
func (e *Engine) GrantAdmin(t testing.TB, bankID, role string) {
	t.Helper()
	e.Grant(t, e.AdminID(t), bankID, role)
}

// Customer makes a user with no role, whose password is made from its
// name, and returns its token.
func (e *Engine) Customer(t testing.TB, name string) string {
	t.Helper()
	return e.CreateUser(t, name, "Pass-"+name+"-0123456789").Token
}

// OpenAccount opens an account in EUR held by userID, as the super admin
// (who needs CanCreateAccount at the bank).
func (e *Engine) OpenAccount(t testing.TB, bankID, accountID, userID, balance string) {
	t.Helper()
	e.Admin().created(t, "open account "+accountID, "/banks/"+bankID+"/accounts", map[string]any{
		"account_id": accountID, "currency": "EUR", "label": accountID,
		"balance": map[string]string{"currency": "EUR", "amount": balance}, "owners": []map[string]string{{"user_id": userID}}},
		"account_id")
}

// BankWithAccounts makes a bank with two users, alice holding alice-1 with
// 100.00 EUR and bob holding bob-1 with nothing, and returns their tokens
// and ids.
func (e *Engine) BankWithAccounts(t testing.TB, bankID string) (alice, bob, aliceID, bobID string) {
	t.Helper()
	e.CreateBank(t, bankID)
	a := e.CreateUser(t, "alice", "Alice-passw0rd-long")
	b := e.CreateUser(t, "bob", "Bob-passw0rd-long-1")
	e.GrantAdmin(t, bankID, "CanCreateAccount")
	e.OpenAccount(t, bankID, "alice-1", a.ID, "100.00")
	e.OpenAccount(t, bankID, "bob-1", b.ID, "0")
	return a.Token, b.Token, a.ID, b.ID
}

// BalanceOf is an account's balance amount, read by the holder of token.
func (e *Engine) BalanceOf(t testing.TB, token, bankID, accountID string) string {
	t.Helper()
	r := e.Token(token).Get(t, "/banks/"+bankID+"/accounts/"+accountID)
	if r.Status != http.StatusOK {
		t.Fatalf("get account %s: %d %s", accountID, r.Status, r.Body)
	}
	amount, _ := r.JSON(t)["balance"].(map[string]any)["amount"].(string)
	return amount
}

// Pay asks, as the holder of token, for a payment in EUR between two
// accounts of a bank, with an Idempotency-Key unless key is "".
func (e *Engine) Pay(t testing.TB, token, bankID, from, to, amount, key string) Response {
	t.Helper()
	h := JSONHeader()
	if key != "" {
		h["Idempotency-Key"] = key
	}
	return e.Token(token).Send(t, Request{Method: http.MethodPost, Path: "/banks/" + bankID + "/accounts/" + from + "/transaction-requests", Header: h,
		Body: MustJSON(t, map[string]any{"to": map[string]string{"bank_id": bankID, "account_id": to},
			"value": map[string]string{"currency": "EUR", "amount": amount}, "description": "test"})})
}

// ThingsDocument is an OpenAPI document served at /pipeline: a public
// GET and a guarded POST with a strict body.
var ThingsDocument = []byte(`{"openapi":"3.1.0","info":{"title":"pipeline","version":"1"},"servers":[{"url":"/pipeline"}],
  "paths":{"/things":{
    "get":{"operationId":"listThings","security":[],"x-dynapi-public":true,"responses":{"200":{"description":"ok",
      "content":{"application/json":{"example":{"things":[]}}}}}},
    "post":{"operationId":"createThing","requestBody":{"required":true,"content":{"application/json":{"schema":{
      "type":"object","required":["name"],"additionalProperties":false,"properties":{"name":{"type":"string"}}}}}},
      "responses":{"201":{"description":"made","content":{"application/json":{"example":{"name":"x"}}}}}}}}}`)

// OperationsDocument is an OpenAPI document served at mount with one GET
// operation per id, each answering its example.
func OperationsDocument(mount string, ids ...string) []byte {
	paths := make([]string, len(ids))
	for i, id := range ids {
		paths[i] = fmt.Sprintf(`"/%s":{"get":{"operationId":"%s","responses":{"200":{"description":"ok",
		  "content":{"application/json":{"example":{"op":"%s"}}}}}}}`, id, id, id)
	}
	return fmt.Appendf(nil, `{"openapi":"3.0.3","info":{"title":"ops","version":"1"},"servers":[{"url":"%s"}],"paths":{%s}}`,
		mount, strings.Join(paths, ","))
}

// OperationRoles maps each operation of a document's view (as the
// management API answers it) to the role it requires.
func OperationRoles(t testing.TB, view map[string]any) map[string]string {
	t.Helper()
	out := map[string]string{}
	ops, _ := view["operations"].([]any)
	for _, op := range ops {
		op, _ := op.(map[string]any)
		id, _ := op["operation_id"].(string)
		out[id], _ = op["role"].(string)
	}
	return out
}
