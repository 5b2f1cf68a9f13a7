package dynapi_test

import (
	"strings"
	"testing"

	"github.com/dynapi/dynapi/engine/identity"
	"github.com/dynapi/dynapi/internal/enginetest"
)

// TestPasswordHashingConfig: the argon2id cost comes from the instance
// config; one out of range stops the start with a message naming it, and
// a valid one logs in over HTTP.
func TestPasswordHashingConfig(t *testing.T) {
	cases := []struct {
		name string
		cost identity.PasswordHashing
		err  string
	}{
		{"cheap", identity.PasswordHashing{MemoryKiB: 64, Iterations: 1, Parallelism: 1}, ""},
		{"no passes", identity.PasswordHashing{MemoryKiB: 64, Parallelism: 1}, "password hashing cost"},
		{"above 1 GiB", identity.PasswordHashing{MemoryKiB: 2 << 20, Iterations: 1, Parallelism: 1}, "password hashing cost"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := enginetest.Config(t.TempDir())
			cfg.PasswordHashing = tc.cost
			if tc.err == "" {
				inst := enginetest.New(t, enginetest.WithConfig(cfg)) // logs the admin in over HTTP
				inst.Close(t)
				return
			}
			inst, err := enginetest.Start(t, enginetest.WithConfig(cfg))
			if err == nil {
				inst.Close(t)
				t.Fatal("Open accepted the cost")
			}
			if !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %q does not name the cost", err)
			}
		})
	}
}
