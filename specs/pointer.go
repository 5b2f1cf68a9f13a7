package specs

import (
	"strconv"
	"strings"

	"github.com/dynapi/dynapi/engine/jsonschemas"
)

var pointerUnescaper = strings.NewReplacer("~1", "/", "~0", "~")

// ptr joins tokens into a JSON pointer, escaping each token.
var ptr = jsonschemas.Pointer

// lookup resolves a JSON pointer ("/components/schemas/A", no leading '#')
// inside doc.
func lookup(doc any, pointer string) (any, bool) {
	if pointer == "" {
		return doc, true
	}
	if pointer[0] != '/' {
		return nil, false
	}
	cur := doc
	for _, tok := range strings.Split(pointer[1:], "/") {
		tok = pointerUnescaper.Replace(tok)
		switch v := cur.(type) {
		case map[string]any:
			next, ok := v[tok]
			if !ok {
				return nil, false
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(v) {
				return nil, false
			}
			cur = v[i]
		default:
			return nil, false
		}
	}
	return cur, true
}
