package mock_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dynapi/dynapi/internal/testpaths"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/plugins/mock"
	"github.com/dynapi/dynapi/specs"
)

// sharedSpecs is the folder of real bank and sample API documents beside
// the repository.
var sharedSpecs = testpaths.Shared("specs")

// unfit lists the response schemas of real documents that no answer can
// fit ("file#schema pointer" -> why).
var unfit = map[string]string{
	"berlin-group-nextgenpsd2/psd2-api_v1.3.11-2021-10-01v1.yaml#/components/responses/OK_200_UpdatePsuData/content/application~1json/schema": "its oneOf branches overlap: a value with scaStatus fits both updatePsuAuthenticationResponse and scaStatusResponse, which allow any other property; the document's own five examples break it the same way",
}

// TestRealDocumentAnswersFit answers every response of every operation of
// the real documents (each status, each named example) and validates the
// JSON answer against the response schema compiled from the same
// document: documents whose own examples break their schema (Berlin
// Group's named examples; UK Open Banking's "string" where a pattern
// allows four word characters) still get answers that fit.
func TestRealDocumentAnswersFit(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(sharedSpecs, "*", "*"))
	if len(files) == 0 {
		t.Fatalf("no documents under %s", sharedSpecs)
	}
	for _, file := range files {
		if !strings.HasSuffix(file, ".yaml") && !strings.HasSuffix(file, ".json") {
			continue
		}
		rel, _ := filepath.Rel(sharedSpecs, file)
		t.Run(rel, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			doc, err := specs.Load(data, "", specs.Options{})
			if err != nil {
				t.Skipf("the document does not load: %v", err)
			}
			checked := 0
			for _, op := range doc.Operations {
				inv, err := mock.Prepare(doc, op)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range op.Responses {
					media := jsonMedia(r)
					if media == nil || r.Status == 0 {
						continue
					}
					schema, err := media.CompileSchema()
					if err != nil || schema == nil || unfit[rel+"#"+media.SchemaPointer()] != "" {
						continue
					}
					prefers := []string{"code=" + strconv.Itoa(r.Status)}
					for _, ex := range media.Examples {
						if ex.Name != "" {
							prefers = append(prefers, prefers[0]+", example="+ex.Name)
						}
					}
					for _, prefer := range prefers {
						reply := inv.Reply(&engine.Call{Prefer: prefer})
						if reply.Status != r.Status {
							continue // another response of the same status answered
						}
						var v any
						dec := json.NewDecoder(strings.NewReader(string(reply.Body)))
						dec.UseNumber()
						if err := dec.Decode(&v); err != nil {
							t.Fatalf("%s %s: not JSON: %v", op.ID, prefer, err)
						}
						if err := schema.Validate(v); err != nil {
							t.Errorf("%s %s: the answer breaks the schema: %v\n%s", op.ID, prefer, err, reply.Body)
						}
						checked++
					}
				}
			}
			t.Logf("%d answers checked", checked)
		})
	}
}

// jsonMedia is the media type the mock answers a response with.
func jsonMedia(r *specs.Response) *specs.ResponseMedia {
	for _, m := range r.Media {
		if m.IsJSON() && !strings.HasPrefix(m.Type, "*/*") {
			return m
		}
	}
	return nil
}
