package sample

import (
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/dynapi/dynapi/internal/regexgen"
)

// The generator checks its own candidates (oneOf exclusivity, enum values,
// alternatives) with this small validator. It understands both OpenAPI 3.0
// (nullable, boolean exclusive bounds) and 3.1 / 2020-12 keywords, always
// applies $ref siblings, and treats unknown formats as valid.

type vkey struct {
	schema uintptr
	depth  int
}

type validator struct {
	g      *gen
	active map[vkey]bool
	steps  int
}

const validateSteps = 200000

func (g *gen) valid(v, s any) bool {
	vd := &validator{g: g, active: map[vkey]bool{}}
	return vd.check(v, s, 0)
}

func (vd *validator) check(v, s any, depth int) bool {
	vd.steps++
	if vd.steps > validateSteps {
		return true // give up: assume valid
	}
	var m map[string]any
	switch x := s.(type) {
	case bool:
		return x
	case map[string]any:
		m = x
	default:
		return true
	}
	if m == nil {
		return true
	}
	// The same schema applied again to the same instance (a schema cycle
	// that consumes no data) adds nothing.
	key := vkey{mapPtr(m), depth}
	if vd.active[key] {
		return true
	}
	vd.active[key] = true
	defer delete(vd.active, key)

	if ref, ok := m["$ref"].(string); ok {
		if target, ok := vd.g.resolve(ref); ok && !vd.check(v, target, depth) {
			return false
		}
	}
	if ts := schemaTypes(m); ts != nil && !slices.ContainsFunc(ts, func(t string) bool { return hasType(v, t) }) {
		return false
	}
	if e, ok := m["enum"].([]any); ok && !slices.ContainsFunc(e, func(x any) bool { return jsonEqual(v, x) }) {
		return false
	}
	if c, ok := m["const"]; ok && !jsonEqual(v, c) {
		return false
	}
	if all, ok := m["allOf"].([]any); ok {
		for _, b := range all {
			if !vd.check(v, b, depth) {
				return false
			}
		}
	}
	if anyOf, ok := m["anyOf"].([]any); ok && !slices.ContainsFunc(anyOf, func(b any) bool { return vd.check(v, b, depth) }) {
		return false
	}
	if oneOf, ok := m["oneOf"].([]any); ok {
		count := 0
		for _, b := range oneOf {
			if vd.check(v, b, depth) {
				count++
				if count > 1 {
					break
				}
			}
		}
		if count != 1 {
			return false
		}
	}
	if not, ok := m["not"]; ok && vd.check(v, not, depth) {
		return false
	}
	if cond, ok := m["if"]; ok {
		if vd.check(v, cond, depth) {
			if then, ok := m["then"]; ok && !vd.check(v, then, depth) {
				return false
			}
		} else if els, ok := m["else"]; ok && !vd.check(v, els, depth) {
			return false
		}
	}
	switch x := v.(type) {
	case string:
		return vd.checkString(x, m)
	case map[string]any:
		return vd.checkObject(x, m, depth)
	case []any:
		return vd.checkArray(x, m, depth)
	default:
		if isNumber(v) {
			return checkNumber(v, m)
		}
	}
	return true
}

func hasType(v any, t string) bool {
	switch t {
	case "null":
		return v == nil
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "number":
		return isNumber(v)
	case "integer":
		r, ok := toRat(v)
		return ok && r.IsInt()
	}
	return false
}

func (vd *validator) checkString(s string, m map[string]any) bool {
	l := runeLen(s)
	if v, ok := intKey(m, "minLength"); ok && l < v {
		return false
	}
	if v, ok := intKey(m, "maxLength"); ok && l > v {
		return false
	}
	if p, ok := m["pattern"].(string); ok && !regexgen.Matches(p, s) {
		return false
	}
	if f, ok := m["format"].(string); ok && !validFormat(strings.ToLower(f), s) {
		return false
	}
	return true
}

func checkNumber(v any, m map[string]any) bool {
	r, ok := toRat(v)
	if !ok {
		return false
	}
	if lo := ratKey(m, "minimum"); lo != nil {
		ex, _ := m["exclusiveMinimum"].(bool)
		if c := r.Cmp(lo); c < 0 || ex && c == 0 {
			return false
		}
	}
	if hi := ratKey(m, "maximum"); hi != nil {
		ex, _ := m["exclusiveMaximum"].(bool)
		if c := r.Cmp(hi); c > 0 || ex && c == 0 {
			return false
		}
	}
	if lo := ratKey(m, "exclusiveMinimum"); lo != nil && r.Cmp(lo) <= 0 {
		return false
	}
	if hi := ratKey(m, "exclusiveMaximum"); hi != nil && r.Cmp(hi) >= 0 {
		return false
	}
	if mo := ratKey(m, "multipleOf"); mo != nil && mo.Sign() > 0 && !isMultiple(r, mo) {
		return false
	}
	return true
}

func (vd *validator) checkArray(a []any, m map[string]any, depth int) bool {
	if v, ok := intKey(m, "minItems"); ok && len(a) < v {
		return false
	}
	if v, ok := intKey(m, "maxItems"); ok && len(a) > v {
		return false
	}
	if u, _ := m["uniqueItems"].(bool); u {
		for i := range a {
			for j := i + 1; j < len(a); j++ {
				if jsonEqual(a[i], a[j]) {
					return false
				}
			}
		}
	}
	prefix, _ := m["prefixItems"].([]any)
	rest, hasRest := m["items"]
	if tuple, ok := rest.([]any); ok {
		prefix = tuple
		rest, hasRest = m["additionalItems"]
	}
	for i, x := range a {
		if i < len(prefix) {
			if !vd.check(x, prefix[i], depth+1) {
				return false
			}
		} else if hasRest && !vd.check(x, rest, depth+1) {
			return false
		}
	}
	if c, ok := m["contains"]; ok {
		count := 0
		for _, x := range a {
			if vd.check(x, c, depth+1) {
				count++
			}
		}
		minC := 1
		if v, ok := intKey(m, "minContains"); ok {
			minC = v
		}
		if count < minC {
			return false
		}
		if v, ok := intKey(m, "maxContains"); ok && count > v {
			return false
		}
	}
	return true
}

func (vd *validator) checkObject(o map[string]any, m map[string]any, depth int) bool {
	if v, ok := intKey(m, "minProperties"); ok && len(o) < v {
		return false
	}
	if v, ok := intKey(m, "maxProperties"); ok && len(o) > v {
		return false
	}
	if req, ok := m["required"].([]any); ok {
		for _, r := range req {
			if s, ok := r.(string); ok {
				if _, has := o[s]; !has {
					return false
				}
			}
		}
	}
	props, _ := m["properties"].(map[string]any)
	pats, _ := m["patternProperties"].(map[string]any)
	addl, hasAddl := m["additionalProperties"]
	names, hasNames := m["propertyNames"]
	for _, k := range sortedKeys(o) {
		x := o[k]
		if hasNames && !vd.check(k, names, depth+1) {
			return false
		}
		matched := false
		if ps, ok := props[k]; ok {
			matched = true
			if !vd.check(x, ps, depth+1) {
				return false
			}
		}
		for _, p := range sortedKeys(pats) {
			if regexgen.Matches(p, k) {
				matched = true
				if !vd.check(x, pats[p], depth+1) {
					return false
				}
			}
		}
		if !matched && hasAddl && !vd.check(x, addl, depth+1) {
			return false
		}
	}
	for _, key := range []string{"dependentRequired", "dependentSchemas", "dependencies"} {
		deps, _ := m[key].(map[string]any)
		for _, k := range sortedKeys(deps) {
			if _, has := o[k]; !has {
				continue
			}
			switch d := deps[k].(type) {
			case []any:
				for _, r := range d {
					if s, ok := r.(string); ok {
						if _, has := o[s]; !has {
							return false
						}
					}
				}
			default:
				if !vd.check(o, d, depth) {
					return false
				}
			}
		}
	}
	return true
}

// jsonEqual compares decoded JSON values, numbers by value.
func jsonEqual(a, b any) bool {
	if isNumber(a) && isNumber(b) {
		x, ok1 := toRat(a)
		y, ok2 := toRat(b)
		return ok1 && ok2 && x.Cmp(y) == 0
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !jsonEqual(xv, yv) {
				return false
			}
		}
		return true
	}
	return false
}

var (
	uuidRe  = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	timeRe  = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$`)
	labelRe = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)
)

// validFormat checks the formats this package generates; others pass.
func validFormat(format, s string) bool {
	switch format {
	case "date-time":
		return len(s) >= 20 && (s[10] == 'T' || s[10] == 't') && validFormat("date", s[:10]) && validFormat("time", s[11:])
	case "date":
		_, err := time.Parse("2006-01-02", s)
		return err == nil
	case "time":
		return timeRe.MatchString(s)
	case "email", "idn-email":
		at := strings.LastIndexByte(s, '@')
		return at > 0 && at < len(s)-1 && !strings.ContainsAny(s, " \t\r\n")
	case "uuid":
		return uuidRe.MatchString(s)
	case "ipv4":
		a, err := netip.ParseAddr(s)
		return err == nil && a.Is4()
	case "ipv6":
		a, err := netip.ParseAddr(s)
		return err == nil && a.Is6() && a.Zone() == ""
	case "hostname":
		if s == "" || len(s) > 253 {
			return false
		}
		for _, l := range strings.Split(strings.TrimSuffix(s, "."), ".") {
			if !labelRe.MatchString(l) {
				return false
			}
		}
		return true
	case "uri", "iri":
		u, err := url.Parse(s)
		return err == nil && u.IsAbs()
	case "uri-reference", "iri-reference":
		_, err := url.Parse(s)
		return err == nil
	}
	return true
}
