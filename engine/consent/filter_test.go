package consent

import (
	"context"
	"errors"
	"testing"

	"github.com/dynapi/dynapi/engine"
)

// TestItemsFilter: the filter reads only successful answers, passes on an
// answer it keeps whole as it is, writes a new reply otherwise (the kept
// items' values as they were), and refuses an answer it cannot filter.
func TestItemsFilter(t *testing.T) {
	f := newItemsFilter("GetAccounts", Binding{Items: "/Data/Account", AccountField: "AccountId"})
	call := &engine.Call{Consent: &engine.ConsentGrant{Accounts: []string{"a1"}}}
	for _, tc := range []struct {
		name, body string
		status     int
		want       string // "" for the reply passed on as it is
		refused    bool
	}{
		{"drops the others", `{"Data":{"Account":[{"AccountId":"a1", "N": 1.50},{"AccountId":"a2"},{"AccountId":7},{}]},"Links":{"Self":"s"}}`, 200,
			`{"Data":{"Account":[{"AccountId":"a1","N":1.50}]},"Links":{"Self":"s"}}`, false},
		{"keeps all", `{"Data":{"Account":[{"AccountId":"a1"}]}}`, 200, "", false},
		{"no list", `{"Data":{}}`, 200, "", false},
		{"an error answer", `{"Data":{"Account":[{"AccountId":"a2"}]}}`, 404, "", false},
		{"not a list", `{"Data":{"Account":{"AccountId":"a2"}}}`, 200, "", true},
		{"an item not an object", `{"Data":{"Account":["a2"]}}`, 200, "", true},
		{"not JSON", `<html>`, 200, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reply := &engine.Reply{Status: tc.status, ContentType: "application/json", Body: []byte(tc.body)}
			got, err := f.Filter(context.Background(), call, reply)
			var e *engine.Error
			switch {
			case tc.refused:
				if !errors.As(err, &e) || e.Status != 502 {
					t.Fatalf("%v; want a 502", err)
				}
			case err != nil:
				t.Fatal(err)
			case tc.want == "" && got != reply:
				t.Errorf("a new reply %s; want the one given", got.Body)
			case tc.want != "" && (got == reply || string(got.Body) != tc.want || got.Status != tc.status || got.ContentType != reply.ContentType):
				t.Errorf("%d %s; want %s", got.Status, got.Body, tc.want)
			}
			if string(reply.Body) != tc.body {
				t.Errorf("the reply was changed: %s", reply.Body)
			}
		})
	}
}
