package apidoc_test

import (
	"errors"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/dynapi/dynapi/internal/enginetest"
	"github.com/dynapi/dynapi/internal/testpaths"
	"github.com/getkin/kin-openapi/openapi3filter"
)

// TestOpenAPIRealAnswers checks, for a real document (Redocly's museum API,
// OpenAPI 3.1) served at its mount, that requests built from the document's
// examples and the answers the engine gives to each of its operations
// validate against what /openapi.json describes for them, and that an
// answer the document does not promise is refused.
func TestOpenAPIRealAnswers(t *testing.T) {
	inst := enginetest.New(t)
	inst.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints", enginetest.ReadFile(t, filepath.Join(testpaths.Shared("specs"), "redocly-museum-oas31/openapi.yaml")))
	doc, _ := loadOpenAPI(t, inst)
	const mount = "/_mock/docs/openapi/museum-api"
	const event = "/special-events/dad4bce8-f5cb-4078-a211-995864315e39"
	cases := []struct {
		name, method, tmpl, path, body string
		status                         int
	}{
		{"museum hours", "GET", "/museum-hours", "/museum-hours?startDate=2023-02-23&page=2&limit=15", "", 200},
		{"list events", "GET", "/special-events", "/special-events?startDate=2023-02-23&endDate=2023-04-18", "", 200},
		{"create an event", "POST", "/special-events", "/special-events", `{"name": "Mermaid Treasure Identification and Analysis",
		  "location": "Under the sea", "eventDescription": "A rare collection", "dates": ["2023-09-05", "2023-09-08"], "price": 0}`, 201},
		{"one event", "GET", "/special-events/{eventId}", event, "", 200},
		{"change an event", "PATCH", "/special-events/{eventId}", event, `{"location": "On the beach.", "price": 15}`, 200},
		{"delete an event", "DELETE", "/special-events/{eventId}", event, "", 204},
		{"buy tickets", "POST", "/tickets", "/tickets", `{"ticketType": "general", "ticketDate": "2023-09-07", "email": "todd@example.com"}`, 201},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			op := operation(t, doc, c.method, mount+c.tmpl)
			var body []byte
			if c.body != "" {
				body = []byte(c.body)
			}
			r := inst.Admin().Send(t, enginetest.Request{Method: c.method, Path: mount + c.path, Body: body, Header: enginetest.JSONHeader()})
			if r.Status != c.status {
				t.Fatalf("%s %s: %d %s", c.method, c.path, r.Status, r.Body)
			}
			validateExchange(t, doc, op, c.method, mount+c.tmpl, mount+c.path, body, enginetest.JSONHeader(), r)
		})
	}

	t.Run("an answer not as described is refused", func(t *testing.T) {
		tmpl := mount + "/special-events/{eventId}"
		op := operation(t, doc, "GET", tmpl)
		for _, body := range []string{`{"eventId": "dad4bce8-f5cb-4078-a211-995864315e39"}`, `{"name": 1}`, `[]`} {
			bad := enginetest.Response{Status: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(body)}
			var refused *openapi3filter.ResponseError
			if err := exchangeError(doc, op, "GET", tmpl, mount+event, nil, nil, bad); !errors.As(err, &refused) {
				t.Errorf("%s as an event: %v, want a response error", body, err)
			}
		}
	})
}
