package admin_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/dynapi/dynapi/internal/enginetest"
	"github.com/dynapi/dynapi/internal/testpaths"
)

// TestMessageDocsGolden pins GET /admin/v1/message-docs, every built-in
// connector method and a dynamic document's operations with their schemas
// and examples, against testdata/message-docs.golden.json (rewrite with
// -args -update).
func TestMessageDocsGolden(t *testing.T) {
	e := enginetest.New(t)
	e.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints", enginetest.ReadFile(t, filepath.Join(testpaths.Shared("specs"), "petstore-oas3/petstore.yaml")))
	e.Run(t, enginetest.Scenario{Name: "message docs", Caller: e.Admin(),
		Request: enginetest.Request{Method: http.MethodGet, Path: "/admin/v1/message-docs"}, WantStatus: http.StatusOK,
		Check: func(t *testing.T, r enginetest.Response) {
			var got bytes.Buffer
			if err := json.Indent(&got, r.Body, "", "  "); err != nil {
				t.Fatalf("message docs are not JSON: %v", err)
			}
			got.WriteByte('\n')
			enginetest.Golden(t, filepath.Join("testdata", "message-docs.golden.json"), got.Bytes())
		}})
}
