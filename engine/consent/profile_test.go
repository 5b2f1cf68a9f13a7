package consent

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/internal/textcut"
)

func TestBuiltinProfiles(t *testing.T) {
	ps := Builtin()
	v4, ok := ps.Get("uk-ob-v4.0-ais")
	if !ok {
		t.Fatal("no uk-ob-v4.0-ais")
	}
	v31, ok := ps.Get("uk-ob-v3.1-ais")
	if !ok {
		t.Fatal("no uk-ob-v3.1-ais")
	}
	// v3.1 inherits what it does not say: the operations and rules.
	if len(v31.Operations) != len(v4.Operations) || len(v31.Rules) != len(v4.Rules) || v31.Kind != "account-access" {
		t.Errorf("v3.1 did not inherit v4.0's operations, rules and kind: %d, %d, %q", len(v31.Operations), len(v31.Rules), v31.Kind)
	}
	if v31.Statuses[Authorised] != "Authorised" || v4.Statuses[Authorised] != "AUTH" {
		t.Errorf("statuses: %v, %v", v31.Statuses, v4.Statuses)
	}
}

// TestRenderedStatus: a status the standard has no word for (v3.1.7 has
// no expired) is shown as the last one before it that has one.
func TestRenderedStatus(t *testing.T) {
	ps := Builtin()
	v4, _ := ps.Get("uk-ob-v4.0-ais")
	v31, _ := ps.Get("uk-ob-v3.1-ais")
	now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	c := &Consent{}
	for _, s := range []Status{AwaitingAuthorisation, Authorised, Expired} {
		c.transition(s, now, "system", "", "", "")
	}
	for _, tc := range []struct {
		p    *Profile
		want string
	}{{v4, "EXPD"}, {v31, "Authorised"}} {
		if got := tc.p.renderedStatus(c); got != tc.want {
			t.Errorf("%s: %s; want %s", tc.p.ID, got, tc.want)
		}
	}
	if c.Revision != 3 || len(c.History) != 3 || c.History[2].From != Authorised {
		t.Errorf("history %+v, revision %d", c.History, c.Revision)
	}
}

func TestParseProfilesRefusals(t *testing.T) {
	const base = `{"profile_id": "base", "standard": "s", "version": "1", "kind": "k",
	 "match": {"operation_ids": ["Create"], "info_version": "1."},
	 "permissions": ["A", "B"], "descriptions": {"A": "Your a", "B": "Your b"},
	 "statuses": {"awaiting_authorisation": "W", "authorised": "A", "rejected": "R", "revoked": "C"},
	 "error_codes": {"field_expected": "1", "field_invalid": "2", "field_invalid_date": "3", "field_missing": "4",
	   "header_invalid": "7", "header_missing": "8", "resource_not_found": "5", "invalid_consent_status": "6", "reauthenticate": "9", "consent_out_of_scope": "10", "unexpected": "0"},
	 "operations": {"Create": {"action": "create"}, "Get": {"action": "get", "id_param": "Id"}}}`
	if _, err := ParseProfiles([]byte(base)); err != nil {
		t.Fatalf("the base profile is refused: %v", err)
	}
	for _, tc := range []struct {
		name    string
		extra   string // a second profile, extending base
		pointer string
		code    string
	}{
		{"unknown parent", `{"profile_id": "x", "extends": "nowhere"}`, "/x/extends", "extends"},
		{"unknown permission", `{"profile_id": "x", "extends": "base", "rules": [{"name": "r", "require_any": ["Z"], "message": "m"}]}`,
			"/x/rules/0/require_any/0", "unknown_permission"},
		{"use without permissions", `{"profile_id": "x", "extends": "base", "operations": {"Create": {"action": "create"}, "Use": {"action": "use"}}}`,
			"/x/operations/Use/any_of", "required"},
		{"get without its id", `{"profile_id": "x", "extends": "base", "operations": {"Create": {"action": "create"}, "Get": {"action": "get"}}}`,
			"/x/operations/Get/id_param", "required"},
		{"no create", `{"profile_id": "x", "extends": "base", "operations": {"Get": {"action": "get", "id_param": "Id"}}}`,
			"/x/operations", "create"},
		{"unknown action", `{"profile_id": "x", "extends": "base", "operations": {"Create": {"action": "create"}, "P": {"action": "transfer"}}}`,
			"/x/operations/P/action", "enum"},
		{"a status unnamed", `{"profile_id": "x", "extends": "base", "statuses": {"authorised": "A"}}`,
			"/x/statuses/awaiting_authorisation", "required"},
		{"a list without its account field", `{"profile_id": "x", "extends": "base", "operations": {"Create": {"action": "create"},
			"L": {"action": "use", "any_of": ["A"], "items": "/Data/Account"}}}`, "/x/operations/L/account_field", "required"},
		{"an account field without its list", `{"profile_id": "x", "extends": "base", "operations": {"Create": {"action": "create"},
			"L": {"action": "use", "any_of": ["A"], "account_field": "AccountId"}}}`, "/x/operations/L/items", "required"},
		{"a list not at a pointer", `{"profile_id": "x", "extends": "base", "operations": {"Create": {"action": "create"},
			"L": {"action": "use", "any_of": ["A"], "items": "Data.Account", "account_field": "AccountId"}}}`, "/x/operations/L/items", "pointer"},
		{"a list at an empty member", `{"profile_id": "x", "extends": "base", "operations": {"Create": {"action": "create"},
			"L": {"action": "use", "any_of": ["A"], "items": "/Data//Account", "account_field": "AccountId"}}}`, "/x/operations/L/items", "pointer"},
		{"item filters without a list", `{"profile_id": "x", "extends": "base", "operations": {"Create": {"action": "create"},
			"L": {"action": "use", "any_of": ["A"], "detail": {"any_of": ["B"], "fields": ["F"]}}}}`, "/x/operations/L/items", "required"},
		{"a detail filter without fields", `{"profile_id": "x", "extends": "base", "operations": {"Create": {"action": "create"},
			"L": {"action": "use", "any_of": ["A"], "items": "/Data/T", "detail": {"any_of": ["B"]}}}}`, "/x/operations/L/detail", "required"},
		{"a direction of an unknown permission", `{"profile_id": "x", "extends": "base", "operations": {"Create": {"action": "create"},
			"L": {"action": "use", "any_of": ["A"], "items": "/Data/T", "direction": {"field": "D", "permissions": {"Credit": "Z"}}}}}`,
			"/x/operations/L/direction/permissions/Credit/0", "unknown_permission"},
		{"a window with a field and a start", `{"profile_id": "x", "extends": "base", "operations": {"Create": {"action": "create"},
			"L": {"action": "use", "any_of": ["A"], "items": "/Data/T", "window": {"field": "At", "start_field": "S", "end_field": "E"}}}}`,
			"/x/operations/L/window", "required"},
		{"a window with a start only", `{"profile_id": "x", "extends": "base", "operations": {"Create": {"action": "create"},
			"L": {"action": "use", "any_of": ["A"], "items": "/Data/T", "window": {"start_field": "S"}}}}`, "/x/operations/L/window", "required"},
		{"a mask keeping too much", `{"profile_id": "x", "extends": "base", "operations": {"Create": {"action": "create"},
			"L": {"action": "use", "any_of": ["A"], "items": "/Data/T", "mask": {"unless": "B", "scheme_field": "S", "schemes": ["PAN"], "field": "Id", "keep_last": 12}}}}`,
			"/x/operations/L/mask/keep_last", "range"},
		{"unknown field", `{"profile_id": "x", "extends": "base", "colour": "blue"}`, "/x", "invalid"},
		{"no id", `{"standard": "s"}`, "/1/profile_id", "required"},
		{"a permission undescribed", `{"profile_id": "x", "extends": "base", "descriptions": {"A": "Your a"}}`,
			"/x/descriptions/B", "required"},
		{"a description of no permission", `{"profile_id": "x", "extends": "base", "descriptions": {"A": "a", "B": "b", "Z": "z"}}`,
			"/x/descriptions/Z", "unknown_permission"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseProfiles([]byte(base), []byte(tc.extra))
			var e *engine.Error
			if !errors.As(err, &e) || e.Code != CodeInvalidProfile {
				t.Fatalf("%v; want a %s", err, CodeInvalidProfile)
			}
			for _, v := range e.Violations {
				if v.Pointer == tc.pointer && v.Code == tc.code {
					return
				}
			}
			t.Errorf("violations %+v; want %s at %s", e.Violations, tc.code, tc.pointer)
		})
	}
}

func TestFieldPath(t *testing.T) {
	for in, want := range map[string]string{
		"/Data/Permissions":   "Data.Permissions",
		"/Data/Permissions/0": "Data.Permissions[0]",
		"/a~1b/c~0d":          "a/b.c~d",
		"":                    "",
	} {
		if got := fieldPath(in); got != want {
			t.Errorf("fieldPath(%q) = %q; want %q", in, got, want)
		}
	}
	if got := textcut.Bytes(strings.Repeat("é", 30), 41); len(got) != 40 {
		t.Errorf("truncate cut inside a rune: %d bytes", len(got))
	}
}

func TestNormaliseDateTime(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"2017-04-05T10:43:07", "2017-04-05T10:43:07Z"},
		{"2017-04-05", "2017-04-05T00:00:00Z"},
		{"2017-04-05T10:43", "2017-04-05T10:43:00Z"},
		{"20170405T104307", "2017-04-05T10:43:07Z"},
		{"2017-04-05T10:43:07.123", "2017-04-05T10:43:07.123Z"},
		{"2017-04-05T10:43:07,5+01", "2017-04-05T10:43:07.5Z"},
		{"2017-04-05T10:43:07+01:00", "2017-04-05T10:43:07Z"},
		{"2017-04-05T10:43:07-0530", "2017-04-05T10:43:07Z"},
		{"2017-04-05T10:43:07Z", "2017-04-05T10:43:07Z"},
		{"yesterday", ""},
		{"2017-13-05", ""},
		{"2017-04-05T24:00:00", ""},
		{"2017-04-05T10:43:07+1", ""},
		{"2017-04-05 10:43:07", ""},
	} {
		got, ok := NormaliseDateTime(DateTimesUTCWallClock, tc.in)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("NormaliseDateTime(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
	if _, ok := NormaliseDateTime("", "2017-04-05"); ok {
		t.Error("a profile with no form normalises")
	}
}
