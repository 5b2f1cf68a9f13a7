package apidoc_test

import (
	"bytes"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/dynapi/dynapi/internal/enginetest"
	"github.com/dynapi/dynapi/internal/jsonschemas"
)

// describedAt is where /openapi.json is added to the schema compiler.
const describedAt = "https://dynapi.invalid/openapi.json"

// TestOpenAPIDescribesManagementAccess: every route of the edge's route
// table is described with the access it really has (public, or the roles
// it needs and whether they count at the path's bank) and its path
// parameters.
func TestOpenAPIDescribesManagementAccess(t *testing.T) {
	inst := enginetest.New(t)
	doc, _ := loadOpenAPI(t, inst)
	for _, r := range inst.Server.Routes() {
		if r.Doc.Page {
			continue // a browser page, not described
		}
		t.Run(r.Method+" "+r.Path, func(t *testing.T) {
			path := doc.Paths.Find(r.Template())
			if path == nil {
				t.Fatalf("%s is not described", r.Template())
			}
			op := path.GetOperation(r.Method)
			if op == nil {
				t.Fatalf("%s %s is not described", r.Method, r.Template())
			}
			public := op.Security != nil && len(*op.Security) == 0
			if public != r.Public {
				t.Errorf("described public %v, served public %v", public, r.Public)
			}
			if !r.Public {
				var roles []string
				for _, v := range op.Extensions["x-dynapi-roles"].([]any) {
					roles = append(roles, v.(string))
				}
				if !slices.Equal(roles, r.Roles) || (op.Extensions["x-dynapi-at-bank"] == true) != r.AtBank {
					t.Errorf("described roles %v at bank %v, served %v at bank %v", roles, op.Extensions["x-dynapi-at-bank"], r.Roles, r.AtBank)
				}
			}
			if want, got := strings.Count(r.Path, ":"), len(op.Parameters); want != got {
				t.Errorf("%d path parameters described, %d served", got, want)
			}
			if op.Summary == "" || len(op.Tags) != 1 {
				t.Errorf("summary %q, tags %v", op.Summary, op.Tags)
			}
		})
	}
}

// TestOpenAPIManagementBodiesAndProblems: live calls of the management API
// send bodies the described request schema accepts (or, refused, one it
// refuses too), and their error answers are problems the described Problem
// schema accepts, each at a status the operation describes.
func TestOpenAPIManagementBodiesAndProblems(t *testing.T) {
	inst := enginetest.New(t)
	_, raw := loadOpenAPI(t, inst)
	compiler := jsonschemas.NewCompiler("the description is self-contained")
	described, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if err := compiler.AddResource(describedAt, described); err != nil {
		t.Fatal(err)
	}
	problem, err := compiler.Compile(describedAt + "#/components/schemas/Problem")
	if err != nil {
		t.Fatal(err)
	}
	nobody := inst.CreateUser(t, "nobody", "a long enough password")
	for _, tc := range []struct {
		name       string
		caller     enginetest.Caller
		method     string
		path, tmpl string // the path called, and as described
		body       string
		status     int
		bodyFits   bool // the request schema accepts body
	}{
		{"list users", inst.Admin(), "GET", "/admin/v1/users", "/admin/v1/users", "", http.StatusOK, false},
		{"create a user", inst.Admin(), "POST", "/admin/v1/users", "/admin/v1/users",
			`{"username": "alice", "email": "alice@example.com", "password": "correct horse battery", "first_name": "Alice"}`, http.StatusCreated, true},
		{"register a consumer", inst.As(nobody), "POST", "/my/consumers", "/my/consumers",
			`{"name": "My app", "redirect_uris": ["https://app.example.com/cb"]}`, http.StatusCreated, true},
		{"a bad body", inst.Admin(), "POST", "/admin/v1/users", "/admin/v1/users",
			`{"username": 7, "nickname": "al"}`, http.StatusBadRequest, false},
		{"no credentials", inst.Anonymous(), "GET", "/admin/v1/users", "/admin/v1/users", "", http.StatusUnauthorized, false},
		{"no role", inst.As(nobody), "GET", "/admin/v1/users", "/admin/v1/users", "", http.StatusForbidden, false},
		{"no such user", inst.Admin(), "GET", "/admin/v1/users/nobody-has-this-id", "/admin/v1/users/{user_id}", "", http.StatusNotFound, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			op := "#/paths/" + strings.ReplaceAll(strings.ReplaceAll(tc.tmpl, "~", "~0"), "/", "~1") + "/" + strings.ToLower(tc.method)
			if tc.body != "" {
				schema, err := compiler.Compile(describedAt + op + "/requestBody/content/application~1json/schema")
				if err != nil {
					t.Fatalf("the request body is not described: %v", err)
				}
				v, err := jsonschema.UnmarshalJSON(strings.NewReader(tc.body))
				if err != nil {
					t.Fatal(err)
				}
				if err := schema.Validate(v); (err == nil) != tc.bodyFits {
					t.Errorf("the described request schema says %v to %s, want fits=%v", err, tc.body, tc.bodyFits)
				}
			}
			r := tc.caller.Send(t, enginetest.Request{Method: tc.method, Path: tc.path, Body: []byte(tc.body),
				Header: map[string]string{"Content-Type": "application/json"}})
			if r.Status != tc.status {
				t.Fatalf("%s %s: %d %s, want %d", tc.method, tc.path, r.Status, r.Body, tc.status)
			}
			if r.Status < 400 {
				return
			}
			r.Problem(t) // checks the content type
			if _, err := compiler.Compile(describedAt + op + "/responses/" + strconv.Itoa(r.Status) + "/content/application~1problem+json/schema"); err != nil {
				t.Errorf("status %d is not described: %v", r.Status, err)
			}
			v, err := jsonschema.UnmarshalJSON(bytes.NewReader(r.Body))
			if err != nil {
				t.Fatal(err)
			}
			if err := problem.Validate(v); err != nil {
				t.Errorf("the answer %s does not fit the described Problem: %v", r.Body, err)
			}
		})
	}
}
