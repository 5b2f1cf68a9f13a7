package apidoc

import (
	"encoding/json"
	"sync/atomic"

	"github.com/dynapi/dynapi/engine"
)

// Cache keeps the encoded description of what is being served and builds
// it again only after the served documents or entities change, as the
// changes it is told of through Changed say: a large document makes a
// description of megabytes, too much to build per request. Subscribe
// Changed to the changes of the use cases that change the sources
// (usecase.Cases.Changes). The zero value is ready; safe for concurrent
// use, lock-free.
type Cache struct {
	changes atomic.Uint64 // changes to the sources seen so far
	last    atomic.Pointer[described]
}

// described is the description built after a number of changes.
type described struct {
	changes uint64
	body    []byte
}

// Changed takes note of a committed change: one to a document or an
// entity makes the next JSON build the description again.
func (c *Cache) Changed(ch engine.Change) {
	if ch.Kind == engine.ChangeDocument || ch.Kind == engine.ChangeEntity {
		c.changes.Add(1)
	}
}

// JSON returns the description of src as JSON. Callers must not change
// the bytes: they are shared until the sources change.
func (c *Cache) JSON(src Sources) ([]byte, error) {
	// The count is read before the build, so a body built from a newer
	// state is at worst rebuilt once more, never kept past a change.
	seen := c.changes.Load()
	if last := c.last.Load(); last != nil && last.changes == seen {
		return last.body, nil
	}
	body, err := json.Marshal(Build(src))
	if err != nil {
		return nil, err
	}
	c.last.Store(&described{changes: seen, body: body})
	return body, nil
}
