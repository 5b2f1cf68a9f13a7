package server

import (
	"github.com/dynapi/dynapi/specs"
)

// fiberRequest lets validation read a fiber request in place.
type fiberRequest requestState

var _ specs.Request = (*fiberRequest)(nil)

func (r *fiberRequest) PathValue(i int) string {
	if i < 0 || i >= r.params.Len() {
		return ""
	}
	return r.params.Value(i)
}

func (r *fiberRequest) QueryValues(name string) []string {
	raw := r.c.Context().QueryArgs().PeekMulti(name)
	if len(raw) == 0 {
		return nil
	}
	out := make([]string, len(raw))
	for i, v := range raw {
		out[i] = string(v)
	}
	return out
}

func (r *fiberRequest) Header(name string) (string, bool) {
	v := r.c.Request().Header.Peek(name)
	if v == nil {
		return "", false
	}
	return string(v), true
}

func (r *fiberRequest) Cookie(name string) (string, bool) {
	v := r.c.Request().Header.Cookie(name)
	if v == nil {
		return "", false
	}
	return string(v), true
}

func (r *fiberRequest) ContentType() string { return string(r.c.Request().Header.ContentType()) }

func (r *fiberRequest) Body() []byte { return r.c.Body() }
