package entities

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/dynapi/dynapi/internal/jsonschemas"
)

// Diff is the result of Compare.
type Diff struct {
	// Compatible says the new definition accepts every record the old one
	// accepted, as far as the definitions tell: no change is in Breaking.
	Compatible bool
	// Changes lists every change in plain words, compatible or not.
	Changes []string
	// Breaking lists the incompatible changes, also found in Changes.
	Breaking []string
}

// Compare says how a definition changed and whether records valid under old
// stay valid under new. Compatible: new optional fields, relaxed limits
// (lower minimum, minLength or minItems, higher maximum, maxLength or
// maxItems, a limit removed), a removed pattern or format, new enum values
// or a removed enum, description and example changes, a required field
// becoming optional, undeclared fields becoming allowed, hasPersonalEntity
// changes. Anything else is incompatible: a removed field, a type or
// reference target change, a new required field, a field becoming
// required, a tightened or new limit, a removed enum value or new enum, a
// new or changed pattern or format, undeclared fields becoming refused, a
// renamed entity. Nested object fields and array items are compared the
// same way, named as "address.street" and "tags[]".
func Compare(old, new *Definition) Diff {
	c := &comparer{}
	switch {
	case old == nil && new == nil:
	case old == nil:
		c.compatible("the entity %q is new", new.Name)
	case new == nil:
		c.breaking("the entity %q is removed", old.Name)
	default:
		if old.Name != new.Name {
			c.breaking("the entity is renamed from %q to %q", old.Name, new.Name)
		}
		if old.Description != new.Description {
			c.compatible("the entity description changes")
		}
		if old.HasPersonalEntity != new.HasPersonalEntity {
			c.compatible("hasPersonalEntity changes from %t to %t", old.HasPersonalEntity, new.HasPersonalEntity)
		}
		switch {
		case old.AllowUndeclared && !new.AllowUndeclared:
			c.breaking("undeclared fields are no longer allowed")
		case !old.AllowUndeclared && new.AllowUndeclared:
			c.compatible("undeclared fields become allowed")
		}
		c.fields("", old.Fields, old.Required, new.Fields, new.Required)
	}
	return Diff{Compatible: len(c.diff.Breaking) == 0, Changes: c.diff.Changes, Breaking: c.diff.Breaking}
}

// NewRequired lists, in new's order, the top-level fields new requires and
// old did not: the ones a migration must fill in existing records.
func NewRequired(old, new *Definition) []string {
	if new == nil {
		return nil
	}
	var out []string
	for _, name := range new.Required {
		if old == nil || !slices.Contains(old.Required, name) {
			out = append(out, name)
		}
	}
	return out
}

type comparer struct{ diff Diff }

func (c *comparer) compatible(format string, args ...any) {
	c.diff.Changes = append(c.diff.Changes, fmt.Sprintf(format, args...))
}

func (c *comparer) breaking(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	c.diff.Changes = append(c.diff.Changes, s)
	c.diff.Breaking = append(c.diff.Breaking, s)
}

// fields compares two sets of sibling fields, prefix naming their parent.
func (c *comparer) fields(prefix string, oldFields []*Field, oldReq []string, newFields []*Field, newReq []string) {
	olds, news := fieldMap(oldFields), fieldMap(newFields)
	var names []string
	for n := range olds {
		names = append(names, n)
	}
	for n := range news {
		if _, ok := olds[n]; !ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		path := prefix + name
		o, n := olds[name], news[name]
		wasReq, isReq := slices.Contains(oldReq, name), slices.Contains(newReq, name)
		switch {
		case n == nil:
			c.breaking("field %q is removed", path)
			continue
		case o == nil && isReq:
			c.breaking("new field %q is required", path)
			continue
		case o == nil:
			c.compatible("new optional field %q", path)
			continue
		case !wasReq && isReq:
			c.breaking("field %q becomes required", path)
		case wasReq && !isReq:
			c.compatible("field %q becomes optional", path)
		}
		c.field(path, o, n)
	}
}

// field compares two versions of one field.
func (c *comparer) field(path string, o, n *Field) {
	if o.Type != n.Type || o.Ref != n.Ref {
		c.breaking("field %q changes type from %s to %s", path, typeName(o), typeName(n))
		return
	}
	if o.Description != n.Description {
		c.compatible("field %q: description changes", path)
	}
	if jsonschemas.JSONText(o.Example) != jsonschemas.JSONText(n.Example) {
		c.compatible("field %q: example changes", path)
	}
	lower(c, path, "minimum", o.Minimum, n.Minimum)
	upper(c, path, "maximum", o.Maximum, n.Maximum)
	lower(c, path, "minLength", o.MinLength, n.MinLength)
	upper(c, path, "maxLength", o.MaxLength, n.MaxLength)
	lower(c, path, "minItems", o.MinItems, n.MinItems)
	upper(c, path, "maxItems", o.MaxItems, n.MaxItems)
	c.text(path, "pattern", o.Pattern, n.Pattern)
	c.text(path, "format", o.Format, n.Format)
	c.enum(path, o.Enum, n.Enum)
	if o.Items != nil && n.Items != nil {
		c.field(path+"[]", o.Items, n.Items)
	}
	if o.Type == TypeObject {
		c.fields(path+".", o.Fields, o.Required, n.Fields, n.Required)
	}
}

// lower compares a lower limit: raising or adding it is incompatible.
func lower[T cmp.Ordered](c *comparer, path, name string, o, n *T) {
	switch {
	case o == nil && n == nil:
	case o == nil:
		c.breaking("field %q gains %s %s", path, name, num(*n))
	case n == nil:
		c.compatible("field %q drops %s %s", path, name, num(*o))
	case *n > *o:
		c.breaking("field %q: %s rises from %s to %s", path, name, num(*o), num(*n))
	case *n < *o:
		c.compatible("field %q: %s falls from %s to %s", path, name, num(*o), num(*n))
	}
}

// upper compares an upper limit: lowering or adding it is incompatible.
func upper[T cmp.Ordered](c *comparer, path, name string, o, n *T) {
	switch {
	case o == nil && n == nil:
	case o == nil:
		c.breaking("field %q gains %s %s", path, name, num(*n))
	case n == nil:
		c.compatible("field %q drops %s %s", path, name, num(*o))
	case *n < *o:
		c.breaking("field %q: %s falls from %s to %s", path, name, num(*o), num(*n))
	case *n > *o:
		c.compatible("field %q: %s rises from %s to %s", path, name, num(*o), num(*n))
	}
}

// text compares a pattern or format: any new or changed one is
// incompatible, since it may refuse records the old one accepted.
func (c *comparer) text(path, name, o, n string) {
	switch {
	case o == n:
	case o == "":
		c.breaking("field %q gains %s %q", path, name, n)
	case n == "":
		c.compatible("field %q drops %s %q", path, name, o)
	default:
		c.breaking("field %q: %s changes from %q to %q", path, name, o, n)
	}
}

func (c *comparer) enum(path string, o, n []any) {
	switch {
	case o == nil && n == nil:
		return
	case o == nil:
		c.breaking("field %q becomes restricted to %s", path, jsonschemas.JSONList(n, 10))
		return
	case n == nil:
		c.compatible("field %q is no longer restricted to listed values", path)
		return
	}
	oldKeys, newKeys := enumKeys(o), enumKeys(n)
	var removed, added []any
	for i, v := range o {
		if !slices.Contains(newKeys, oldKeys[i]) {
			removed = append(removed, v)
		}
	}
	for i, v := range n {
		if !slices.Contains(oldKeys, newKeys[i]) {
			added = append(added, v)
		}
	}
	if len(removed) > 0 {
		c.breaking("field %q no longer allows %s", path, jsonschemas.JSONList(removed, 10))
	}
	if len(added) > 0 {
		c.compatible("field %q also allows %s", path, jsonschemas.JSONList(added, 10))
	}
}

// enumKeys gives each value a key under which equal JSON values (1 and
// 1.0) match.
func enumKeys(values []any) []string {
	keys := make([]string, len(values))
	for i, v := range values {
		if r, ok := numberRat(v); ok {
			keys[i] = "n" + r.RatString()
		} else {
			keys[i] = jsonschemas.JSONText(v)
		}
	}
	return keys
}

func fieldMap(fields []*Field) map[string]*Field {
	m := make(map[string]*Field, len(fields))
	for _, f := range fields {
		m[f.Name] = f
	}
	return m
}

func typeName(f *Field) string {
	if f.Type == TypeReference {
		return referencePrefix + f.Ref
	}
	if f.Type == TypeArray && f.Items != nil {
		return "array of " + typeName(f.Items)
	}
	return f.Type
}

func num[T cmp.Ordered](v T) string {
	switch v := any(v).(type) {
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case int:
		return strconv.Itoa(v)
	}
	return strings.TrimSpace(fmt.Sprint(v))
}
