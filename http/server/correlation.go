package server

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"
	"sync/atomic"
	"unsafe"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// HeaderCorrelationID carries the id that ties a request to its logs.
const HeaderCorrelationID = "X-Correlation-Id"

// correlationIDs makes unique ids cheaply: a random prefix per process and a
// counter in hexadecimal, so no request pays for crypto/rand (or for
// dividing by 36).
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

// set takes the request's correlation id, in as the edge read it, when
// it is sane, else makes one, puts it on the response and returns it. The
// id is made once, for both.
func (g *correlationIDs) set(c *fiber.Ctx, in fieldValue) string {
	var id string
	if v := in.get(&c.Request().Header, HeaderCorrelationID); validCorrelationID(v) {
		id = strings.Clone(v)
	} else {
		var buf [48]byte
		id = string(strconv.AppendUint(append(buf[:0], g.prefix...), g.next.Add(1), 16))
	}
	// SetCanonical copies the value: the bytes of id are only read.
	c.Response().Header.SetCanonical(correlationKey, unsafe.Slice(unsafe.StringData(id), len(id)))
	return id
}

// validCorrelationID accepts 1 to 128 visible ASCII characters, so a
// client's id can be echoed and logged without injecting anything.
func validCorrelationID(b string) bool {
	if len(b) == 0 || len(b) > 128 {
		return false
	}
	for _, ch := range []byte(b) {
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

// playInteraction plays the request's interaction id back in header name
// (UK Open Banking's x-fapi-interaction-id), or a new UUID when the
// request has none that is sane; an answer that has one keeps it.
func playInteraction(c *fiber.Ctx, name string) {
	if len(c.Response().Header.Peek(name)) > 0 {
		return
	}
	id := c.Get(name)
	if !validCorrelationID(id) {
		id = uuid.NewString()
	}
	c.Set(name, id)
}
