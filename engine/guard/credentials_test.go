package guard

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/dynapi/dynapi/engine"
)

func TestCredentialField(t *testing.T) {
	for name, want := range map[string]string{
		"Authorization": "Authorization", "authorization": "Authorization", "AUTHORIZATION": "Authorization",
		"DirectLogin": "DirectLogin", "Directlogin": "DirectLogin", "directlogin": "DirectLogin",
		"Authorization ": "", "X-Authorization": "", "Direct-Login": "", "Cookie": "", "": "",
	} {
		t.Run(name, func(t *testing.T) {
			i, ok := CredentialField(name)
			if ok != (want != "") || (ok && CredentialFields[i] != want) {
				t.Fatalf("CredentialField(%q) = %d, %v; want %q", name, i, ok, want)
			}
			if j, _ := CredentialField([]byte(name)); j != i {
				t.Fatalf("CredentialField([]byte(%q)) = %d, want %d as for the string", name, j, i)
			}
		})
	}
}

func TestOneCredential(t *testing.T) {
	for _, tc := range []struct {
		lines     int
		ambiguous bool
	}{{0, false}, {1, false}, {2, true}, {5, true}} {
		t.Run(fmt.Sprint(tc.lines), func(t *testing.T) {
			err := OneCredential(tc.lines)
			if !tc.ambiguous {
				if err != nil {
					t.Fatalf("%d lines refused: %v", tc.lines, err)
				}
				return
			}
			if err == nil || err.Status != http.StatusBadRequest || err.Code != engine.CodeAmbiguousCredentials {
				t.Fatalf("%d lines: error %v, want 400 %s", tc.lines, err, engine.CodeAmbiguousCredentials)
			}
		})
	}
}
