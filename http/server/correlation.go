package server

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"sync/atomic"

	"github.com/gofiber/fiber/v2"
)

// HeaderCorrelationID carries the id that ties a request to its logs.
const HeaderCorrelationID = "X-Correlation-Id"

// correlationIDs makes unique ids cheaply: a random prefix per process and a
// counter, so no request pays for crypto/rand.
type correlationIDs struct {
	prefix string
	next   atomic.Uint64
}

func newCorrelationIDs() *correlationIDs {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return &correlationIDs{prefix: hex.EncodeToString(b[:]) + "-"}
}

// correlationKey is HeaderCorrelationID as set on responses, already in
// canonical form.
var correlationKey = []byte(HeaderCorrelationID)

// set takes the request's correlation id when it is sane, else makes one,
// and puts it on the response. It allocates nothing: the id is written
// into the response header from a buffer on the stack.
func (g *correlationIDs) set(c *fiber.Ctx) {
	h := &c.Response().Header
	if in := c.Request().Header.Peek(HeaderCorrelationID); validCorrelationID(in) {
		h.SetCanonical(correlationKey, in)
		return
	}
	var buf [48]byte
	id := strconv.AppendUint(append(buf[:0], g.prefix...), g.next.Add(1), 36)
	h.SetCanonical(correlationKey, id)
}

// validCorrelationID accepts 1 to 128 visible ASCII characters, so a
// client's id can be echoed and logged without injecting anything.
func validCorrelationID(b []byte) bool {
	if len(b) == 0 || len(b) > 128 {
		return false
	}
	for _, ch := range b {
		if ch <= ' ' || ch > '~' || ch == '"' || ch == '\\' {
			return false
		}
	}
	return true
}

// correlationID returns the id of the current response.
func correlationID(c *fiber.Ctx) string {
	return string(c.Response().Header.Peek(HeaderCorrelationID))
}
