package guard

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/dynapi/dynapi/engine"
)

func TestCredentialField(t *testing.T) {
	for name, want := range map[string]bool{
		"Authorization": true, "authorization": true, "AUTHORIZATION": true,
		"DirectLogin": true, "Directlogin": true, "directlogin": true,
		"Authorization ": false, "X-Authorization": false, "Direct-Login": false, "Cookie": false, "": false,
	} {
		t.Run(name, func(t *testing.T) {
			if got := CredentialField([]byte(name)); got != want {
				t.Fatalf("CredentialField(%q) = %v, want %v", name, got, want)
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
