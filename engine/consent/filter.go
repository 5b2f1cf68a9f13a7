package consent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/internal/jsonptr"
)

// itemsFilter is the response filter (engine.ResponseFilter) of an
// operation a profile binds to use whose answers list items of several
// accounts (Binding.Items): it drops the items whose account is not one of
// the consent's, so a back end that answers too much cannot leak another
// account. Only successful answers are read; an answer that keeps every
// item is passed on as it is, and one that drops any is a new reply (a
// reply may be shared between calls: it is never changed).
type itemsFilter struct {
	op string
	// members are the object members leading to the list (Binding.Items,
	// unescaped); field the member of each item naming its account.
	members []string
	field   string
}

// newItemsFilter is the filter of bind, nil when it lists no items.
func newItemsFilter(op string, bind Binding) *itemsFilter {
	if bind.Items == "" {
		return nil
	}
	f := &itemsFilter{op: op, field: bind.AccountField}
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
	body, dropped, err := f.keepIn(reply.Body, 0, call.Consent.Accounts)
	if err != nil {
		return nil, engine.NewError(http.StatusBadGateway, engine.CodeInvalidResult,
			"the answer of "+f.op+" cannot be filtered to the consent's accounts: "+err.Error())
	}
	if !dropped {
		return reply, nil
	}
	return &engine.Reply{Status: reply.Status, ContentType: reply.ContentType, Body: body}, nil
}

// keepIn is v, the value depth members deep in an answer, with only the
// items of accounts left in the list below it, and whether any was
// dropped. The objects around the list and the kept items are written
// again, compact, their values as they were (numbers unrounded, members
// in order within each item). A value without the list keeps everything; a
// list that is not an array, or an item that is not an object, is an
// error.
func (f *itemsFilter) keepIn(v json.RawMessage, depth int, accounts []string) ([]byte, bool, error) {
	if depth == len(f.members) {
		return f.keepItems(v, accounts)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(v, &obj); err != nil {
		return nil, false, fmt.Errorf("the answer at %q is not an object", pointer(f.members[:depth]))
	}
	inner, ok := obj[f.members[depth]]
	if !ok {
		return v, false, nil
	}
	kept, dropped, err := f.keepIn(inner, depth+1, accounts)
	if err != nil || !dropped {
		return v, false, err
	}
	obj[f.members[depth]] = kept
	out, err := json.Marshal(obj)
	return out, true, err
}

// keepItems filters the list v.
func (f *itemsFilter) keepItems(v json.RawMessage, accounts []string) ([]byte, bool, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(v, &items); err != nil {
		return nil, false, fmt.Errorf("the answer at %q is not a list", pointer(f.members))
	}
	kept := items[:0]
	for _, item := range items {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(item, &fields); err != nil {
			return nil, false, fmt.Errorf("an item of the answer at %q is not an object", pointer(f.members))
		}
		var account string
		if json.Unmarshal(fields[f.field], &account) == nil && slices.Contains(accounts, account) {
			kept = append(kept, item)
		}
	}
	if len(kept) == len(items) {
		return v, false, nil
	}
	out, err := json.Marshal(kept)
	return out, true, err
}

// pointer writes members as a JSON pointer.
func pointer(members []string) string { return jsonptr.Append("", members...) }
