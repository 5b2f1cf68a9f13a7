package identity

import (
	"slices"
	"strings"
	"testing"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/internal/accesstest"
)

// TestBootstrapPointsAtEachFault: a refused first start reports every
// configured credential at fault, each at its option's pointer, and writes
// nothing.
func TestBootstrapPointsAtEachFault(t *testing.T) {
	secret := strings.Repeat("s", 40)
	cases := []struct {
		name string
		opts BootstrapOptions
		want []string // pointer:code, in order
	}{
		{"short consumer secret", BootstrapOptions{AdminPassword: goodPassword, ConsumerSecret: "short-secret"},
			[]string{BootstrapConsumerSecret + ":length"}},
		{"short admin password", BootstrapOptions{AdminPassword: "short", ConsumerSecret: secret},
			[]string{BootstrapAdminPassword + ":min_length"}},
		{"bad key and username", BootstrapOptions{AdminUsername: "no spaces", AdminPassword: goodPassword, ConsumerKey: "a b"},
			[]string{BootstrapAdminUsername + ":pattern", BootstrapConsumerKey + ":pattern"}},
		{"everything at once", BootstrapOptions{AdminUsername: "no spaces", AdminPassword: "short", ConsumerKey: "a b", ConsumerSecret: "short"},
			[]string{BootstrapAdminUsername + ":pattern", BootstrapAdminPassword + ":min_length", BootstrapConsumerKey + ":pattern", BootstrapConsumerSecret + ":length"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			_, err := e.bootstrap(tc.opts)
			refused := accesstest.WantErr(t, err, 400, engine.CodeValidationFailed)
			var got []string
			for _, v := range refused.Violations {
				if v.Location != BootstrapLocation || v.Message == "" {
					t.Errorf("violation %+v", v)
				}
				got = append(got, v.Pointer+":"+v.Code)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("violations %v, want %v", got, tc.want)
			}
			if e.count(bucketUsers) != 0 || e.count(bucketConsumers) != 0 || len(e.actions()) != 0 {
				t.Error("a refused bootstrap wrote")
			}
		})
	}
}
