package apidoc_test

import (
	"testing"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/apidoc"
)

// TestCacheRebuildsAfterAChange: the description is built again after a
// committed change to a document or an entity, and only then; changes to
// what the description does not show keep it.
func TestCacheRebuildsAfterAChange(t *testing.T) {
	for _, c := range []struct {
		change  engine.Change
		rebuild bool
	}{
		{engine.Change{Kind: engine.ChangeDocument, Action: "create", ID: "d1"}, true},
		{engine.Change{Kind: engine.ChangeDocument, Action: "replace", ID: "d1", BankID: "b"}, true},
		{engine.Change{Kind: engine.ChangeDocument, Action: "delete", ID: "d1"}, true},
		{engine.Change{Kind: engine.ChangeEntity, Action: "update", ID: "e1"}, true},
		{engine.Change{Kind: engine.ChangeScript, Action: "create", ID: "s1"}, false},
		{engine.Change{Kind: engine.ChangeRouting, Action: "delete", ID: "r1"}, false},
		{engine.Change{Kind: engine.ChangeMapping, Action: "create", ID: "m1"}, false},
	} {
		t.Run(c.change.Kind+"."+c.change.Action, func(t *testing.T) {
			var cache apidoc.Cache
			builds := 0
			src := apidoc.Sources{Builtin: []apidoc.Describer{func() (map[string]any, map[string]any) {
				builds++
				return map[string]any{"/hello": map[string]any{}}, map[string]any{}
			}}, Version: "test"}
			if _, err := cache.JSON(src); err != nil {
				t.Fatal(err)
			}
			cache.Changed(c.change)
			for range 2 {
				if _, err := cache.JSON(src); err != nil {
					t.Fatal(err)
				}
			}
			want := 1
			if c.rebuild {
				want = 2
			}
			if builds != want {
				t.Errorf("built %d times, want %d", builds, want)
			}
		})
	}
}
