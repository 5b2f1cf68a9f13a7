package banking

import (
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/dynapi/dynapi/engine/connector"
	"github.com/dynapi/dynapi/engine/guard"
	"github.com/dynapi/dynapi/engine/jsonschemas"
)

// Route is one route of the banking core: Register mounts it and OpenAPI
// describes it, both from Routes, so the routes and their description
// cannot drift apart.
type Route struct {
	// Method is the HTTP method: GET or POST.
	Method string
	// Path is the route in OpenAPI template form, /banks/{bank_id}; it is
	// mounted in fiber's form, /banks/:bank_id.
	Path string
	// Operation is the connector method the route answers through, and the
	// route's OpenAPI operationId.
	Operation string
	// Summary is the connector method's description.
	Summary string
	// Status is the status of a successful answer: 201 for what the route
	// creates, 200 otherwise.
	Status int
	// Params are the route's path parameters (those in Path, in order), then
	// its query and header parameters.
	Params []Param
	// Body is the Go type of the JSON body the route reads, unknown members
	// refused; nil when it reads none.
	Body reflect.Type
	// Data is the Go type of what the route answers: the whole body, or the
	// items of the list under ListKey.
	Data reflect.Type
	// ListKey is the member of the answer holding the list, as in
	// {"accounts": [...]}; empty when the route answers one object as it is.
	ListKey string
	// Public routes need no credentials.
	Public bool
	// Roles, any one of which the caller needs (at the URL's bank, for a bank
	// role) to call the route at all; empty means any authenticated caller.
	Roles []string
	// Holder routes work on the accounts the caller holds: one account in
	// the path, which the caller must hold, or a list, which shows only the
	// caller's accounts. HolderOrRoles lifts that.
	Holder bool
	// HolderOrRoles, any one of which lets a caller of a Holder route reach
	// accounts the caller does not hold (at the URL's bank, for a bank
	// role); empty means only the holder's own accounts.
	HolderOrRoles []string
	// Access says in words who may call the route.
	Access string

	atBank bool
	serve  func(*API, *request) error
	gate   *guard.Rule // checked before the handler runs
	others *guard.Rule // HolderOrRoles as a rule; nil when there are none

	// body is bodySchema(Body) compiled, set when the route is mounted.
	body *jsonschemas.Schema
}

// Param is one parameter of a route.
type Param struct {
	Name string
	// In is "path", "query" or "header".
	In          string
	Description string
	Required    bool
	// Schema is the JSON Schema of the parameter's value.
	Schema map[string]any
}

// pathParamDescriptions describe the path parameters of the routes.
var pathParamDescriptions = map[string]string{
	"bank_id":         "the bank's id",
	"account_id":      "the account's id",
	"counterparty_id": "the saved payee's id",
}

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// transactionQueryParams are what transactionQuery reads.
func transactionQueryParams() []Param {
	return []Param{
		{Name: "from_date", In: "query", Schema: dateOrDateTime(),
			Description: "only transactions completed at or after this time (inclusive): an RFC 3339 date-time, or a date (YYYY-MM-DD) meaning its midnight UTC"},
		{Name: "to_date", In: "query", Schema: dateOrDateTime(),
			Description: "only transactions completed before this time (exclusive): an RFC 3339 date-time, or a date (YYYY-MM-DD) meaning its midnight UTC"},
		{Name: "limit", In: "query", Schema: map[string]any{"type": "integer", "minimum": 0},
			Description: "the most transactions to answer, newest first; absent or 0 for the connector's default page size"},
		{Name: "offset", In: "query", Schema: map[string]any{"type": "integer", "minimum": 0},
			Description: "how many of the newest transactions to skip"},
	}
}

func dateOrDateTime() map[string]any {
	return map[string]any{"type": "string", "anyOf": []any{
		map[string]any{"type": "string", "format": "date-time"}, map[string]any{"type": "string", "format": "date"}}}
}

func idempotencyKeyParam() Param {
	return Param{Name: HeaderIdempotencyKey, In: "header", Schema: map[string]any{"type": "string"},
		Description: "makes the payment safe to retry: a repeat with the same key and body answers the first payment again; " +
			"the same key with another body is refused"}
}

// Routes returns the banking core's routes, in the order Register mounts
// them. Each call returns a fresh table the caller may keep.
func Routes() []Route {
	readAny := []string{RoleCanGetAccountsHeldAtOneBank, RoleCanGetAccountsHeldAtAnyBank}
	payAny := []string{RoleCanCreateAnyTransactionRequest}
	acc := "/banks/{bank_id}/accounts"
	one := acc + "/{account_id}"
	bank, account, transaction := reflect.TypeFor[Bank](), reflect.TypeFor[Account](), reflect.TypeFor[Transaction]()
	counterparty := reflect.TypeFor[Counterparty]()
	routes := []Route{
		{Method: http.MethodGet, Path: "/banks", Operation: GetBanks, Data: bank, ListKey: "banks",
			Public: true, serve: (*API).getBanks},
		{Method: http.MethodGet, Path: "/banks/{bank_id}", Operation: GetBank, Data: bank,
			Public: true, serve: (*API).getBank},
		{Method: http.MethodGet, Path: acc, Operation: GetAccounts, Data: account, ListKey: "accounts",
			Holder: true, HolderOrRoles: readAny, serve: (*API).getAccounts},
		{Method: http.MethodPost, Path: acc, Operation: CreateBankAccount, Body: account, Data: account,
			Roles: []string{RoleCanCreateAccount}, serve: (*API).createAccount},
		{Method: http.MethodGet, Path: one, Operation: GetAccount, Data: account,
			Holder: true, HolderOrRoles: readAny, serve: (*API).getAccount},
		{Method: http.MethodGet, Path: one + "/transactions", Operation: GetTransactions, Params: transactionQueryParams(),
			Data: transaction, ListKey: "transactions", Holder: true, HolderOrRoles: readAny, serve: (*API).getTransactions},
		{Method: http.MethodGet, Path: one + "/counterparties", Operation: GetCounterparties, Data: counterparty, ListKey: "counterparties",
			Holder: true, HolderOrRoles: readAny, serve: (*API).getCounterparties},
		{Method: http.MethodPost, Path: one + "/counterparties", Operation: CreateCounterparty, Body: counterparty, Data: counterparty,
			Holder: true, HolderOrRoles: payAny, serve: (*API).createCounterparty},
		{Method: http.MethodGet, Path: one + "/counterparties/{counterparty_id}", Operation: GetCounterparty, Data: counterparty,
			Holder: true, HolderOrRoles: readAny, serve: (*API).getCounterparty},
		{Method: http.MethodPost, Path: one + "/transaction-requests", Operation: CreateTransactionRequest,
			Params: []Param{idempotencyKeyParam()}, Body: reflect.TypeFor[TransactionRequestBody](), Data: reflect.TypeFor[TransactionRequest](),
			Holder: true, HolderOrRoles: payAny, serve: (*API).createTransactionRequest},
		{Method: http.MethodGet, Path: "/my/accounts", Operation: GetShareableAccounts, Data: account, ListKey: "accounts",
			Holder: true, serve: (*API).userAccounts},
		{Method: http.MethodGet, Path: "/my/payable-accounts", Operation: GetPayableAccounts, Data: account, ListKey: "accounts",
			Holder: true, serve: (*API).userAccounts},
	}
	summaries := map[string]string{}
	for _, m := range Methods() {
		summaries[m.Name] = m.Description
	}
	bankRoles := map[string]bool{}
	for _, r := range Roles() {
		bankRoles[r.Name] = r.RequiresBankID
	}
	for i := range routes {
		rt := &routes[i]
		rt.Roles, rt.HolderOrRoles = slices.Clone(rt.Roles), slices.Clone(rt.HolderOrRoles)
		rt.Summary = summaries[rt.Operation]
		rt.Status = http.StatusOK
		if rt.Method == http.MethodPost {
			rt.Status = http.StatusCreated
		}
		var params []Param
		for _, m := range pathParam.FindAllStringSubmatch(rt.Path, -1) {
			params = append(params, Param{Name: m[1], In: "path", Required: true,
				Description: pathParamDescriptions[m[1]], Schema: map[string]any{"type": "string"}})
		}
		rt.Params = append(params, rt.Params...)
		rt.atBank = strings.Contains(rt.Path, "{bank_id}")
		rt.gate = &guard.Rule{Public: rt.Public, Roles: rt.Roles}
		if len(rt.HolderOrRoles) > 0 {
			rt.others = &guard.Rule{Roles: rt.HolderOrRoles}
		}
		rt.Access = accessText(rt, bankRoles)
	}
	return routes
}

// fiberPath is p in fiber's form: /banks/:bank_id.
func fiberPath(p string) string { return pathParam.ReplaceAllString(p, ":$1") }

// accessText says who may call rt.
func accessText(rt *Route, bankRoles map[string]bool) string {
	roles := func(names []string) string {
		out := make([]string, len(names))
		for i, n := range names {
			out[i] = n
			if bankRoles[n] {
				out[i] += " at the bank"
			}
		}
		return strings.Join(out, " or ")
	}
	switch {
	case rt.Public:
		return "Public: no credentials needed."
	case !rt.Holder && len(rt.Roles) == 0:
		return "Any authenticated caller."
	case !rt.Holder:
		return "Needs login and " + roles(rt.Roles) + "."
	case strings.Contains(rt.Path, "{account_id}"):
		s := "Needs login: the caller must hold the account"
		if len(rt.HolderOrRoles) > 0 {
			s += ", or have " + roles(rt.HolderOrRoles)
		}
		return s + "."
	default:
		s := "Needs login: answers only the accounts the caller holds"
		if len(rt.HolderOrRoles) > 0 {
			s += ", or every account at the bank to a caller with " + roles(rt.HolderOrRoles)
		}
		return s + "."
	}
}

// openAPITag groups the banking core's operations in /openapi.json.
const openAPITag = "Banking core"

// OpenAPI describes the banking core's routes for /openapi.json: OpenAPI
// 3.1 path items by path template, and the component schemas
// (#/components/schemas/...) they refer to. The schemas are those of the
// connector methods' data, made by the same generator from the Go types,
// with each banking type named once (Bank, Account, Amount, ...); request
// bodies are inline variants (NewAccount, NewCounterparty,
// TransactionRequestBody) that require no member, since the route does not,
// and refuse unknown ones, since the route does. Operations without
// "security" need the document's default (DirectLogin or a Bearer token);
// "x-dynapi-roles" lists the roles any one of which the route needs, and
// "x-dynapi-holder-or-roles" the roles that reach accounts the caller does
// not hold. Each call returns fresh values the caller may change.
func OpenAPI() (paths, schemas map[string]any) {
	routes := Routes()
	methods := map[string]*connector.Method{}
	for _, m := range Methods() {
		methods[m.Name] = m
	}
	var components []reflect.Type
	for _, rt := range routes {
		components = namedStructs(rt.Data, components)
	}
	slices.SortFunc(components, func(a, b reflect.Type) int { return strings.Compare(a.Name(), b.Name()) })
	schemas = map[string]any{}
	for _, t := range components {
		schemas[t.Name()] = withRefs(schemaOf(t), components)
	}
	paths = map[string]any{}
	for _, rt := range routes {
		m := methods[rt.Operation]
		if m == nil {
			m = &connector.Method{}
		}
		op := map[string]any{"operationId": rt.Operation, "summary": rt.Summary, "description": rt.Access,
			"tags": []any{openAPITag}}
		if len(rt.Params) > 0 {
			params := make([]any, len(rt.Params))
			for i, p := range rt.Params {
				o := map[string]any{"name": p.Name, "in": p.In, "description": p.Description, "schema": p.Schema}
				if p.Required {
					o["required"] = true
				}
				params[i] = o
			}
			op["parameters"] = params
		}
		if rt.Body != nil {
			name := bodyName(rt.Body, components)
			if schemas[name] == nil {
				schemas[name] = bodySchema(rt.Body)
			}
			media := map[string]any{"schema": ref(name)}
			for _, a := range m.Args {
				if reflect.DeepEqual(a.Schema, schemaOf(rt.Body)) && a.Example != nil {
					media["example"] = connector.JSONValue(a.Example)
				}
			}
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": media}}
		}
		data := any(ref(rt.Data.Name()))
		example := connector.JSONValue(m.DataExample)
		if rt.ListKey != "" {
			data = map[string]any{"type": "object", "required": []any{rt.ListKey}, "additionalProperties": false,
				"properties": map[string]any{rt.ListKey: map[string]any{"type": "array", "items": data}}}
			if example != nil {
				example = map[string]any{rt.ListKey: example}
			}
		}
		media := map[string]any{"schema": data}
		if example != nil {
			media["example"] = example
		}
		op["responses"] = map[string]any{
			strconv.Itoa(rt.Status): map[string]any{"description": http.StatusText(rt.Status),
				"content": map[string]any{"application/json": media}},
			"default": map[string]any{"description": "An error, as application/problem+json (RFC 9457)."},
		}
		if rt.Public {
			op["security"] = []any{}
			op["x-dynapi-public"] = true
		} else {
			op["x-dynapi-roles"] = anyStrings(rt.Roles)
			if rt.Holder {
				op["x-dynapi-holder-or-roles"] = anyStrings(rt.HolderOrRoles)
			}
		}
		item, _ := paths[rt.Path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[rt.Path] = item
		}
		item[strings.ToLower(rt.Method)] = op
	}
	return paths, schemas
}

func ref(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }

// namedStructs adds to seen the struct types t is made of, t included,
// but not time.Time.
func namedStructs(t reflect.Type, seen []reflect.Type) []reflect.Type {
	switch {
	case t == timeType:
	case t.Kind() == reflect.Pointer, t.Kind() == reflect.Slice:
		return namedStructs(t.Elem(), seen)
	case t.Kind() == reflect.Struct:
		if slices.Contains(seen, t) {
			return seen
		}
		seen = append(seen, t)
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() {
				seen = namedStructs(f.Type, seen)
			}
		}
	}
	return seen
}

// withRefs is component schema s with every schema inside it equal to a
// component's replaced by a reference to that component.
func withRefs(s map[string]any, components []reflect.Type) map[string]any {
	var walk func(map[string]any) map[string]any
	walk = func(sub map[string]any) map[string]any {
		for _, t := range components {
			if reflect.DeepEqual(sub, schemaOf(t)) {
				return ref(t.Name())
			}
		}
		return mapSubschemas(sub, walk)
	}
	return mapSubschemas(s, walk)
}

// mapSubschemas returns a copy of schema s with f applied to its immediate
// subschemas: the values of properties, items and the members of anyOf,
// which are all that schemaOf writes.
func mapSubschemas(s map[string]any, f func(map[string]any) map[string]any) map[string]any {
	out := make(map[string]any, len(s))
	for k, v := range s {
		switch v := v.(type) {
		case map[string]any:
			switch k {
			case "items":
				out[k] = f(v)
				continue
			case "properties":
				props := make(map[string]any, len(v))
				for name, p := range v {
					props[name] = f(p.(map[string]any))
				}
				out[k] = props
				continue
			}
		case []any:
			if k == "anyOf" {
				alts := make([]any, len(v))
				for i, a := range v {
					alts[i] = f(a.(map[string]any))
				}
				out[k] = alts
				continue
			}
		}
		out[k] = v
	}
	return out
}

// bodyName names the component of request bodies of type t: its own name,
// or New... when the name is taken by the type's answer schema.
func bodyName(t reflect.Type, components []reflect.Type) string {
	if slices.Contains(components, t) {
		return "New" + t.Name()
	}
	return t.Name()
}

// bodySchema is the schema of a JSON body of type t as decodeBody reads it:
// no member is required, unknown members are refused at every level.
func bodySchema(t reflect.Type) map[string]any {
	var strict func(map[string]any) map[string]any
	strict = func(s map[string]any) map[string]any {
		s = mapSubschemas(s, strict)
		if s["type"] == "object" {
			delete(s, "required")
			s["additionalProperties"] = false
		}
		return s
	}
	s := strict(schemaOf(t))
	s["description"] = t.Name() + " as the client sends it: the route requires no member and refuses unknown ones; " +
		"the bank's connector checks the rest and fills what the server sets."
	return s
}

func anyStrings(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
