package guard

import (
	"net/http"
	"testing"

	"github.com/dynapi/dynapi/engine"
)

// lines is a request header with every line of each field.
type lines map[string][]string

func (l lines) PeekAll(name string) [][]byte {
	var out [][]byte
	for _, v := range l[name] {
		out = append(out, []byte(v))
	}
	return out
}

func TestOneCredential(t *testing.T) {
	for _, tc := range []struct {
		name      string
		h         lines
		ambiguous bool
	}{
		{"none", lines{}, false},
		{"one Authorization", lines{"Authorization": {"Bearer a"}}, false},
		{"one DirectLogin", lines{"DirectLogin": {`token="a"`}}, false},
		{"empty lines beside one", lines{"Authorization": {"", "Bearer a"}, "DirectLogin": {""}}, false},
		{"two Authorization", lines{"Authorization": {"Bearer a", "Bearer b"}}, true},
		{"two DirectLogin", lines{"DirectLogin": {`token="a"`, `token="b"`}}, true},
		{"one of each", lines{"Authorization": {"Bearer a"}, "DirectLogin": {`username="u"`}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := OneCredential(tc.h)
			if !tc.ambiguous {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || err.Status != http.StatusBadRequest || err.Code != engine.CodeAmbiguousCredentials {
				t.Fatalf("error %v, want 400 %s", err, engine.CodeAmbiguousCredentials)
			}
		})
	}
}
