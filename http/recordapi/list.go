package recordapi

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/dynentity"
	"github.com/dynapi/dynapi/entities/records"
)

// operators are the range suffixes a filter may carry: field[gte]=v.
var operators = map[string]records.Op{"eq": records.Eq, "gt": records.Gt, "gte": records.Gte, "lt": records.Lt, "lte": records.Lte}

// list answers a page: {"<name>_list": [...], "next_cursor", "total"}.
// The records are written as the store holds them, the JSON json.Marshal
// made of each, so they are neither decoded nor encoded again.
func (a *API) list(cl *call) error {
	args := cl.c.Context().QueryArgs()
	q, err := query(cl.entity, cl.schema, func(fn func(name, value string)) {
		args.VisitAll(func(k, v []byte) { fn(string(k), string(v)) })
	})
	if err != nil {
		return err
	}
	q.Raw = true
	page, err := a.Records.List(cl.ctx, cl.schema, cl.owner, q)
	if err != nil {
		return err
	}
	cl.c.Response().SetBodyRaw(listBody(cl.entity.Def.ListKey(), page))
	cl.c.Response().Header.SetContentType(fiber.MIMEApplicationJSON)
	return nil
}

// listBody encodes a raw page as c.JSON would encode the map
// {listKey: records, "next_cursor": page.Next, "total": *page.Total}
// (keys sorted, next_cursor and total only when set).
func listBody(listKey string, page *records.Page) []byte {
	type member struct {
		key   string
		value func([]byte) []byte
	}
	members := []member{{listKey, func(b []byte) []byte {
		b = append(b, '[')
		for i, r := range page.Raw {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, r...)
		}
		return append(b, ']')
	}}}
	if page.Next != "" {
		members = append(members, member{"next_cursor", func(b []byte) []byte { return appendString(b, page.Next) }})
	}
	if page.Total != nil {
		members = append(members, member{"total", func(b []byte) []byte { return strconv.AppendInt(b, int64(*page.Total), 10) }})
	}
	slices.SortFunc(members, func(a, b member) int { return strings.Compare(a.key, b.key) })
	size := 64 + len(listKey) + len(page.Next)
	for _, r := range page.Raw {
		size += len(r) + 1
	}
	b := make([]byte, 0, size)
	for i, m := range members {
		if i == 0 {
			b = append(b, '{')
		} else {
			b = append(b, ',')
		}
		b = appendString(b, m.key)
		b = append(b, ':')
		b = m.value(b)
	}
	return append(b, '}')
}

// appendString appends s as a JSON string, escaped as json.Marshal does.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // cannot fail for a string
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// query reads paging, sorting and filters from the query string. Every
// unknown or unfilterable field is a 400 naming it. The list parameters
// (limit, cursor, offset, sort_by, sort_direction, count, cascade) are never
// read as filters, so a field with such a name is filtered as name[eq]=.
func query(e *dynentity.Entity, schema *records.Schema, visit func(func(name, value string))) (records.Query, error) {
	var q records.Query
	var faults []engine.Violation
	filters := map[string]*records.Filter{}
	var order []string
	visit(func(name, value string) {
		switch name {
		case "limit":
			n, err := strconv.Atoi(value)
			if err != nil || n < 1 || n > 1000 {
				faults = append(faults, fault(name, "must be a number from 1 to 1000"))
			}
			q.Limit = n
			return
		case "cursor":
			q.Cursor = value
			return
		case "offset":
			faults = append(faults, fault(name, "page with cursor: each page's next_cursor gives the next page"))
			return
		case "sort_by":
			if _, ok := schema.Indexed[value]; !ok && value != e.Def.PrimaryKey() {
				faults = append(faults, fault(name, "cannot sort by "+strconv.Quote(value)+": not a scalar field of "+e.Def.Name))
			}
			q.SortBy = value
			return
		case "sort_direction":
			switch strings.ToLower(value) {
			case "asc", "":
			case "desc":
				q.Descending = true
			default:
				faults = append(faults, fault(name, "must be asc or desc"))
			}
			return
		case "count":
			q.Count = value == "true"
			return
		case "cascade":
			return
		}
		field, op := name, records.Eq
		if i := strings.IndexByte(name, '['); i > 0 && strings.HasSuffix(name, "]") {
			o, ok := operators[name[i+1:len(name)-1]]
			if !ok {
				faults = append(faults, fault(name, "unknown operator; use eq, gt, gte, lt or lte"))
				return
			}
			field, op = name[:i], o
		}
		if _, ok := schema.Indexed[field]; !ok {
			faults = append(faults, fault(name, strconv.Quote(field)+" is not a scalar field of "+e.Def.Name+" and cannot be filtered"))
			return
		}
		key := field + "[" + name + "]"
		f, ok := filters[key]
		if !ok {
			f = &records.Filter{Field: field, Op: op}
			filters[key] = f
			order = append(order, key)
		}
		f.Values = append(f.Values, value)
	})
	for _, k := range order {
		q.Filters = append(q.Filters, *filters[k])
	}
	if len(faults) > 0 {
		return q, engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed, "the list parameters are not valid", faults...)
	}
	return q, nil
}

func fault(param, msg string) engine.Violation {
	return engine.Violation{Location: "query", Pointer: "/" + param, Code: "invalid", Message: msg}
}

func nonNil(list []map[string]any) []map[string]any {
	if list == nil {
		return []map[string]any{}
	}
	return list
}
