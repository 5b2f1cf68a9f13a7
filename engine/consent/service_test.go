package consent

import (
	"fmt"
	"testing"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/internal/authtest"
	"github.com/dynapi/dynapi/internal/kvjson"
)

// TestListScanIsBounded: a filter that matches one consent of many pages
// through them maxScan at a time, so no page reads more than that.
func TestListScanIsBounded(t *testing.T) {
	store := authtest.OpenStore(t, "")
	s := NewService(store, audit.New(store, nil), nil)
	n := maxScan + maxScan/2
	err := store.Update(t.Context(), func(tx engine.Tx) error {
		for i := range n {
			c := Consent{ID: fmt.Sprintf("c%06d", i), Kind: "account-access", ConsumerID: "other", Status: AwaitingAuthorisation}
			if i == n-1 {
				c.ConsumerID = "needle"
			}
			if err := kvjson.Put(tx, bucket, c.ID, &c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var pages []int
	after, found := "", ""
	for range 5 {
		list, next, err := s.List(t.Context(), Filter{ConsumerID: "needle", After: after})
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, len(list))
		for _, c := range list {
			found = c.ID
		}
		if next == "" {
			break
		}
		after = next
	}
	if found != fmt.Sprintf("c%06d", n-1) || len(pages) != 2 || pages[0] != 0 {
		t.Errorf("pages %v, found %q; want an empty first page of %d read, then the needle", pages, found, maxScan)
	}
}
