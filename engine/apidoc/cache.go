package apidoc

import (
	"encoding/json"
	"sync/atomic"

	"github.com/dynapi/dynapi/engine/endpoints"
)

// Cache keeps the encoded description of what is being served and builds
// it again only once the served documents or entities change: a large
// document makes a description of megabytes, too much to build per
// request. The zero value is ready; safe for concurrent use, lock-free.
type Cache struct {
	last atomic.Pointer[described]
}

// described is the description of one state of the sources.
type described struct {
	endpoints *endpoints.Snapshot
	entities  uint64
	body      []byte
}

// JSON returns the description of src as JSON. Callers must not change
// the bytes: they are shared until the sources change.
func (c *Cache) JSON(src Sources) ([]byte, error) {
	// The state is read before the build, so a body built from a newer
	// state is at worst rebuilt once more, never kept past a change.
	var state described
	if src.Endpoints != nil {
		state.endpoints = src.Endpoints.Snapshot()
	}
	if src.Entities != nil {
		state.entities = src.Entities.Generation()
	}
	if last := c.last.Load(); last != nil && last.endpoints == state.endpoints && last.entities == state.entities {
		return last.body, nil
	}
	body, err := json.Marshal(Build(src))
	if err != nil {
		return nil, err
	}
	state.body = body
	c.last.Store(&state)
	return body, nil
}
