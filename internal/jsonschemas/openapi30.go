package jsonschemas

import "slices"

// RewriteNullable turns OpenAPI 3.0's nullable (or the x-nullable
// extension) on the schema object m into JSON Schema, in place: a single
// type becomes [type, "null"], and an enum that does not list null gains
// it (many documents list null already). It is the one reading of
// nullable: specs rewrites documents with it, and internal/sample the
// schemas it checks candidates against.
func RewriteNullable(m map[string]any) {
	nullable, _ := m["nullable"].(bool)
	if xn, ok := m["x-nullable"].(bool); ok && xn {
		nullable = true
	}
	if !nullable {
		return
	}
	t, ok := m["type"].(string)
	if !ok {
		return
	}
	m["type"] = []any{t, "null"}
	if enum, ok := m["enum"].([]any); ok && !slices.Contains(enum, nil) {
		m["enum"] = append(enum[:len(enum):len(enum)], nil) // a copy: the enum may be shared
	}
}
