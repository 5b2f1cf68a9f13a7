package specs

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v4"
)

// keyOrder recovers the order in which a document writes the keys of its
// "content" and "examples" objects, which decoding into maps loses: a mock
// answers the first media type and the first named example as written. The
// source is read again only when an object with two or more such keys is
// asked about, and only while the document loads.
type keyOrder struct {
	data        []byte
	contentType string
	read        bool
	orders      map[string][]string // JSON pointer of an object -> its keys as written
	// produces orders every content object of a Swagger 2.0 document, whose
	// media types the conversion makes from its produces list.
	produces []string
}

// orderedKeys are the objects whose key order is kept.
var orderedKeys = map[string]bool{"content": true, "examples": true}

// newKeyOrder reads key orders from data, a document in the OpenAPI 3 form
// (a Swagger 2.0 document's pointers change when it is converted).
func newKeyOrder(data []byte, contentType string) *keyOrder {
	return &keyOrder{data: data, contentType: contentType}
}

// swagger2KeyOrder orders the media types of a converted Swagger 2.0
// document as its top-level produces list does.
func swagger2KeyOrder(root map[string]any) *keyOrder {
	k := &keyOrder{read: true}
	list, _ := root["produces"].([]any)
	for _, v := range list {
		if s, ok := v.(string); ok {
			k.produces = append(k.produces, s)
		}
	}
	return k
}

// keys returns the keys of m, the object at pointer, in the document's
// order; sorted when the order is unknown.
func (k *keyOrder) keys(pointer string, m map[string]any) []string {
	keys := sortedKeys(m)
	if k == nil || len(keys) < 2 {
		return keys
	}
	if !k.read {
		k.read = true
		k.orders = map[string][]string{}
		if isJSON(k.data, k.contentType) {
			k.readJSON()
		} else {
			k.readYAML()
		}
		k.data = nil
	}
	written, ok := k.orders[pointer]
	if !ok && strings.HasSuffix(pointer, "/content") {
		written = k.produces
	}
	rank := make(map[string]int, len(written))
	for i, key := range written {
		rank[key] = i + 1
	}
	slices.SortStableFunc(keys, func(a, b string) int {
		ra, rb := rank[a], rank[b]
		switch {
		case ra == 0 && rb == 0:
			return 0
		case ra == 0:
			return 1
		case rb == 0:
			return -1
		}
		return ra - rb
	})
	return keys
}

// readJSON streams the JSON source, keeping the key order of the objects
// named in orderedKeys.
func (k *keyOrder) readJSON() {
	dec := json.NewDecoder(bytes.NewReader(k.data))
	dec.UseNumber()
	var walk func(path []string, depth int) bool
	walk = func(path []string, depth int) bool {
		tok, err := dec.Token()
		if err != nil || depth > maxDocumentDepth {
			return false
		}
		delim, ok := tok.(json.Delim)
		if !ok {
			return true
		}
		keep := len(path) > 0 && orderedKeys[path[len(path)-1]]
		var keys []string
		for i := 0; dec.More(); i++ {
			name := strconv.Itoa(i)
			if delim == '{' {
				t, err := dec.Token()
				if err != nil {
					return false
				}
				name, _ = t.(string)
				if keep {
					keys = append(keys, name)
				}
			}
			if !walk(append(path, name), depth+1) {
				return false
			}
		}
		if _, err := dec.Token(); err != nil {
			return false
		}
		if len(keys) > 1 {
			k.orders[ptr("", path...)] = keys
		}
		return true
	}
	walk(nil, 0)
}

// readYAML walks the YAML source's nodes, keeping the key order of the
// mappings named in orderedKeys. Aliases are not followed: what they name
// is walked where it is written.
func (k *keyOrder) readYAML() {
	var root yaml.Node
	if yaml.Unmarshal(k.data, &root) != nil || len(root.Content) == 0 {
		return
	}
	var walk func(n *yaml.Node, path []string, depth int)
	walk = func(n *yaml.Node, path []string, depth int) {
		if depth > maxDocumentDepth {
			return
		}
		switch n.Kind {
		case yaml.MappingNode:
			keep := len(path) > 0 && orderedKeys[path[len(path)-1]]
			var keys []string
			for i := 0; i+1 < len(n.Content); i += 2 {
				name := n.Content[i].Value
				if keep {
					keys = append(keys, name)
				}
				walk(n.Content[i+1], append(path, name), depth+1)
			}
			if len(keys) > 1 {
				k.orders[ptr("", path...)] = keys
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, append(path, strconv.Itoa(i)), depth+1)
			}
		}
	}
	walk(root.Content[0], nil, 0)
}
