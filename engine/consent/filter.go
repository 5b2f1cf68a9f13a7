package consent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/internal/jsonptr"
)

// itemsFilter is the response filter (engine.ResponseFilter) of an
// operation a profile binds to use whose answers list items (Binding.Items):
// it keeps only what the consent grants of them, so a back end that answers
// too much cannot leak it. It drops the items of accounts that are not the
// consent's (AccountField) and applies the item filters (itemPlan). Only
// successful answers are read; an answer it keeps whole is passed on as it
// is, and one it changes is a new reply (a reply may be shared between
// calls: it is never changed).
type itemsFilter struct {
	op string
	// members are the object members leading to the list (Binding.Items,
	// unescaped); account the member of each item naming its account, ""
	// when the list is not filtered by account.
	members []string
	account string
	bind    Binding
}

// newItemsFilter is the filter of bind, nil when it lists no items.
func newItemsFilter(op string, bind Binding) *itemsFilter {
	if bind.Items == "" {
		return nil
	}
	f := &itemsFilter{op: op, account: bind.AccountField, bind: bind}
	for _, seg := range strings.Split(bind.Items, "/")[1:] {
		f.members = append(f.members, jsonptr.Unescape(seg))
	}
	return f
}

// Filter implements engine.ResponseFilter.
func (f *itemsFilter) Filter(_ context.Context, call *engine.Call, reply *engine.Reply) (*engine.Reply, error) {
	if reply.Status < 200 || reply.Status > 299 {
		return reply, nil
	}
	if call.Consent == nil {
		return nil, engine.Internal(errors.New("consent: a list of " + f.op + " reached its filter without a consent"))
	}
	plan := f.plan(call.Consent)
	body, changed, err := f.keepIn(reply.Body, 0, &plan)
	if err != nil {
		return nil, engine.NewError(http.StatusBadGateway, engine.CodeInvalidResult,
			"the answer of "+f.op+" cannot be filtered to what the consent grants: "+err.Error())
	}
	if !changed {
		return reply, nil
	}
	return &engine.Reply{Status: reply.Status, ContentType: reply.ContentType, Body: body}, nil
}

// itemPlan is what one call's consent lets it see of each item.
type itemPlan struct {
	accounts  []string // the items of these accounts only; nil: any
	byAccount bool
	// hide are the fields dropped from each item (Detail); denied the
	// values of the direction field whose items are dropped (Direction).
	hide   []string
	denied []string
	// from and to bound the window field(s) of each item, when set.
	from, to *time.Time
	mask     *MaskFilter // nil: nothing masked
}

// perItem tells whether the plan looks into each item beyond its account.
func (p *itemPlan) perItem() bool {
	return len(p.hide) > 0 || len(p.denied) > 0 || p.from != nil || p.to != nil || p.mask != nil
}

// plan is what g lets a call see of each item.
func (f *itemsFilter) plan(g *engine.ConsentGrant) itemPlan {
	p := itemPlan{accounts: g.Accounts, byAccount: f.account != ""}
	b := f.bind
	if b.Detail != nil && !holdsAny(g.Permissions, b.Detail.AnyOf) {
		p.hide = b.Detail.Fields
	}
	if b.Direction != nil {
		for _, v := range sortedKeys(b.Direction.Permissions) {
			if !slices.Contains(g.Permissions, b.Direction.Permissions[v]) {
				p.denied = append(p.denied, v)
			}
		}
	}
	if b.Window != nil {
		p.from, p.to = g.TransactionFrom, g.TransactionTo
	}
	if b.Mask != nil && !slices.Contains(g.Permissions, b.Mask.Unless) {
		p.mask = b.Mask
	}
	return p
}

// keepIn is v, the value depth members deep in an answer, with only what
// plan keeps of the list below it, and whether anything changed. The
// objects around the list and the kept items are written again, compact,
// their values as they were (numbers unrounded, members in order). A value
// without the list keeps everything; a list that is not an array, or an
// item that is not an object, is an error.
func (f *itemsFilter) keepIn(v json.RawMessage, depth int, plan *itemPlan) ([]byte, bool, error) {
	if depth == len(f.members) {
		return f.keepItems(v, plan)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(v, &obj); err != nil {
		return nil, false, fmt.Errorf("the answer at %q is not an object", pointer(f.members[:depth]))
	}
	inner, ok := obj[f.members[depth]]
	if !ok {
		return v, false, nil
	}
	kept, changed, err := f.keepIn(inner, depth+1, plan)
	if err != nil || !changed {
		return v, false, err
	}
	obj[f.members[depth]] = kept
	out, err := json.Marshal(obj)
	return out, true, err
}

// keepItems filters the list v.
func (f *itemsFilter) keepItems(v json.RawMessage, plan *itemPlan) ([]byte, bool, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(v, &items); err != nil {
		return nil, false, fmt.Errorf("the answer at %q is not a list", pointer(f.members))
	}
	kept, changed := items[:0], false
	for _, item := range items {
		fields, err := decodeMembers(item)
		if err != nil {
			return nil, false, fmt.Errorf("an item of the answer at %q is not an object", pointer(f.members))
		}
		if !f.keeps(fields, plan) {
			changed = true
			continue
		}
		if plan.perItem() {
			if out, ok := f.reduce(fields, plan); ok {
				item, changed = out, true
			}
		}
		kept = append(kept, item)
	}
	if !changed {
		return v, false, nil
	}
	out, err := json.Marshal(kept)
	return out, true, err
}

// keeps tells whether an item with fields stays in the list: its account
// is the consent's, its direction granted, its date-time inside the window.
func (f *itemsFilter) keeps(fields []member, plan *itemPlan) bool {
	if plan.byAccount {
		var account string
		if json.Unmarshal(memberValue(fields, f.account), &account) != nil || !slices.Contains(plan.accounts, account) {
			return false
		}
	}
	if len(plan.denied) > 0 {
		var dir string
		_ = json.Unmarshal(memberValue(fields, f.bind.Direction.Field), &dir)
		if slices.Contains(plan.denied, dir) {
			return false
		}
	}
	if plan.from == nil && plan.to == nil {
		return true
	}
	w := f.bind.Window
	if w.Field != "" {
		return plan.inWindow(memberValue(fields, w.Field))
	}
	return plan.inWindow(memberValue(fields, w.StartField)) && plan.inWindow(memberValue(fields, w.EndField))
}

// inWindow tells whether v, a JSON date-time, lies in the plan's window
// (bounds included). A missing or unreadable date-time is outside: the
// window is a limit the consent sets, and an item that cannot be placed
// is not shown.
func (p *itemPlan) inWindow(v json.RawMessage) bool {
	var s string
	if json.Unmarshal(v, &s) != nil {
		return false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return false
	}
	return (p.from == nil || !t.Before(*p.from)) && (p.to == nil || !t.After(*p.to))
}

// reduce writes a kept item again without the fields the plan hides and
// with the numbers it masks masked; ok is false when nothing changed.
func (f *itemsFilter) reduce(fields []member, plan *itemPlan) ([]byte, bool) {
	changed := false
	out := fields[:0]
	for _, m := range fields {
		if slices.Contains(plan.hide, m.name) {
			changed = true
			continue
		}
		if plan.mask != nil {
			if v, ok := maskWithin(m.value, plan.mask, 0); ok {
				m.value, changed = v, true
			}
		}
		out = append(out, m)
	}
	if !changed {
		return nil, false
	}
	return encodeMembers(out), true
}

// maxMaskDepth bounds how deep masking looks into an item; answers are
// checked against the document's schema before they are filtered, and
// the standards' items are a few levels deep.
const maxMaskDepth = 16

// maskWithin is v with every object in it whose scheme field is one of m's
// schemes masked (maskedValue); ok is false when nothing changed.
func maskWithin(v json.RawMessage, m *MaskFilter, depth int) (json.RawMessage, bool) {
	if depth > maxMaskDepth || len(v) == 0 {
		return v, false
	}
	switch v[0] {
	case '[':
		var items []json.RawMessage
		if json.Unmarshal(v, &items) != nil {
			return v, false
		}
		changed := false
		for i, item := range items {
			if out, ok := maskWithin(item, m, depth+1); ok {
				items[i], changed = out, true
			}
		}
		if !changed {
			return v, false
		}
		out, _ := json.Marshal(items) // raw values read above: cannot fail
		return out, true
	case '{':
		fields, err := decodeMembers(v)
		if err != nil {
			return v, false
		}
		var scheme string
		_ = json.Unmarshal(memberValue(fields, m.SchemeField), &scheme)
		masking := slices.Contains(m.Schemes, scheme)
		changed := false
		for i, f := range fields {
			if masking && f.name == m.Field {
				var s string
				if json.Unmarshal(f.value, &s) == nil {
					fields[i].value, changed = maskedValue(s, m.KeepLast), true
				}
				continue
			}
			if out, ok := maskWithin(f.value, m, depth+1); ok {
				fields[i].value, changed = out, true
			}
		}
		if !changed {
			return v, false
		}
		return encodeMembers(fields), true
	}
	return v, false
}

// maskedValue is s with every character but the last keep replaced by
// '*', as a JSON string; a value of keep characters or fewer is all masked.
func maskedValue(s string, keep int) json.RawMessage {
	r := []rune(s)
	if len(r) <= keep {
		keep = 0
	}
	masked := strings.Repeat("*", len(r)-keep) + string(r[len(r)-keep:])
	out, _ := json.Marshal(masked)
	return out
}

// pointer writes members as a JSON pointer.
func pointer(members []string) string { return jsonptr.Append("", members...) }
