package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/dynapi/dynapi/internal/jsonptr"
)

// maxTemplateDepth bounds the nesting of a mapping template.
const maxTemplateDepth = 32

// template is a compiled mapping template (see the package doc).
type template interface {
	// eval applies the template to src. ok is false when a path led
	// nowhere. With wire set the result is only encoded: objects keep the
	// template's member order and numbers stay json.Number; otherwise it
	// is decoded JSON (map[string]any, float64, ...).
	eval(src any, wire bool) (v any, ok bool)
}

// apply evaluates t on src; a result that led nowhere is null.
func apply(t template, src any, wire bool) any {
	v, _ := t.eval(src, wire)
	return v
}

// parseTemplate compiles a mapping template.
func parseTemplate(s string) (template, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	t, err := parseNode(dec, "", 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("invalid JSON: data after the template")
	}
	return t, nil
}

func parseNode(dec *json.Decoder, at string, depth int) (template, error) {
	if depth > maxTemplateDepth {
		return nil, fmt.Errorf("nested more than %d levels at %s", maxTemplateDepth, where(at))
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("invalid JSON: %v", err)
	}
	switch v := tok.(type) {
	case json.Delim:
		if v == '{' {
			return parseObject(dec, at, depth)
		}
		return parseArray(dec, at, depth)
	case string:
		switch {
		case strings.HasPrefix(v, "$$"):
			return literal{v[1:]}, nil
		case strings.HasPrefix(v, "$"):
			p, err := parsePath(v)
			if err != nil {
				return nil, fmt.Errorf("at %s: %v", where(at), err)
			}
			return p, nil
		}
	}
	return literal{tok}, nil
}

func parseObject(dec *json.Decoder, at string, depth int) (template, error) {
	o := &objectNode{}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("invalid JSON: %v", err)
		}
		key := tok.(string) // the decoder only yields strings as keys
		if seen[key] {
			return nil, fmt.Errorf("duplicate member %q at %s", key, where(at))
		}
		seen[key] = true
		v, err := parseNode(dec, jsonptr.Append(at, key), depth+1)
		if err != nil {
			return nil, err
		}
		o.keys = append(o.keys, key)
		o.vals = append(o.vals, v)
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("invalid JSON: %v", err)
	}
	return o, nil
}

func parseArray(dec *json.Decoder, at string, depth int) (template, error) {
	a := &arrayNode{}
	for i := 0; dec.More(); i++ {
		v, err := parseNode(dec, at+"/"+strconv.Itoa(i), depth+1)
		if err != nil {
			return nil, err
		}
		a.items = append(a.items, v)
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("invalid JSON: %v", err)
	}
	if len(a.items) == 2 {
		if src, ok := a.items[0].(*pathNode); ok {
			return &eachNode{src: src, elem: a.items[1]}, nil
		}
	}
	return a, nil
}

// where names a template position for messages.
func where(pointer string) string {
	if pointer == "" {
		return "the top"
	}
	return pointer
}

// literal is a value copied as it is.
type literal struct{ v any }

func (l literal) eval(_ any, wire bool) (any, bool) {
	if n, ok := l.v.(json.Number); ok && !wire {
		f, _ := n.Float64()
		return f, true
	}
	return l.v, true
}

// step is one step of a path: a member name, or an index when key is "".
type step struct {
	key   string
	index int
}

// pathNode is "$", "$.a.b" or "$.items[0].id".
type pathNode struct {
	raw   string
	steps []step
}

func parsePath(raw string) (*pathNode, error) {
	p := &pathNode{raw: raw}
	rest := raw[1:]
	for rest != "" {
		switch rest[0] {
		case '.':
			end := strings.IndexAny(rest[1:], ".[")
			if end < 0 {
				end = len(rest) - 1
			}
			key := rest[1 : 1+end]
			if key == "" {
				return nil, fmt.Errorf("path %q has an empty member name", raw)
			}
			if strings.ContainsRune(key, ']') {
				return nil, fmt.Errorf("path %q has a stray ']'", raw)
			}
			p.steps = append(p.steps, step{key: key})
			rest = rest[1+end:]
		case '[':
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return nil, fmt.Errorf("path %q has an unclosed '['", raw)
			}
			n, err := strconv.Atoi(rest[1:end])
			if err != nil || n < 0 || rest[1] == '+' {
				return nil, fmt.Errorf("path %q has an index %q that is not a non-negative integer", raw, rest[1:end])
			}
			p.steps = append(p.steps, step{index: n})
			rest = rest[end+1:]
		default:
			return nil, fmt.Errorf("path %q: after $ comes .name or [index]; start literal strings with $$", raw)
		}
	}
	return p, nil
}

func (p *pathNode) eval(src any, _ bool) (any, bool) {
	v := src
	for _, s := range p.steps {
		if s.key != "" {
			m, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			if v, ok = m[s.key]; !ok {
				return nil, false
			}
			continue
		}
		a, ok := v.([]any)
		if !ok || s.index >= len(a) {
			return nil, false
		}
		v = a[s.index]
	}
	return v, true
}

// objectNode maps each member; members that lead nowhere are left out.
type objectNode struct {
	keys []string
	vals []template
}

func (o *objectNode) eval(src any, wire bool) (any, bool) {
	if wire {
		out := make(object, 0, len(o.keys))
		for i, t := range o.vals {
			if v, ok := t.eval(src, wire); ok {
				out = append(out, member{o.keys[i], v})
			}
		}
		return out, true
	}
	out := make(map[string]any, len(o.keys))
	for i, t := range o.vals {
		if v, ok := t.eval(src, wire); ok {
			out[o.keys[i]] = v
		}
	}
	return out, true
}

// arrayNode maps each element.
type arrayNode struct{ items []template }

func (a *arrayNode) eval(src any, wire bool) (any, bool) {
	out := make([]any, len(a.items))
	for i, t := range a.items {
		out[i] = apply(t, src, wire)
	}
	return out, true
}

// eachNode maps every element of the array at src with elem.
type eachNode struct {
	src  *pathNode
	elem template
}

func (e *eachNode) eval(src any, wire bool) (any, bool) {
	v, ok := e.src.eval(src, wire)
	if !ok {
		return nil, false
	}
	list, ok := v.([]any)
	if !ok {
		return nil, v == nil
	}
	out := make([]any, len(list))
	for i, el := range list {
		out[i] = apply(e.elem, el, wire)
	}
	return out, true
}

// object is a JSON object that keeps its members' order when encoded.
type object []member

type member struct {
	key   string
	value any
}

// MarshalJSON encodes the members in order.
func (o object) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, err := json.Marshal(m.key)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(m.value)
		if err != nil {
			return nil, err
		}
		buf.Write(k)
		buf.WriteByte(':')
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}
