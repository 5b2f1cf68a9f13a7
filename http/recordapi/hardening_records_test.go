package recordapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/dynapi/dynapi/entities/records"
	"github.com/dynapi/dynapi/internal/enginetest"
)

// offerDef is a personal entity with typed, bounded fields: what a bank
// lets each customer keep of their own.
const offerDef = `{"Offer": {"description": "A customer's offer", "required": ["amount"], "properties": {
  "amount": {"type": "number", "minimum": 0, "maximum": 1000000, "example": 1000.5},
  "product": {"type": "string", "minLength": 2, "maxLength": 30, "example": "PERSONAL"},
  "terms": {"type": "object", "properties": {"months": {"type": "integer", "minimum": 1, "maximum": 600, "example": 12}}},
  "tags": {"type": "array", "items": {"type": "string", "maxLength": 10}, "example": ["a"]},
  "note": {"type": "string", "example": "n"}}}, "hasPersonalEntity": true}`

// listOffers returns a customer's personal offers, every page of them.
func listOffers(t testing.TB, inst *enginetest.Engine, token string) []any {
	t.Helper()
	var all []any
	path := "/my/entities/Offer?limit=1000"
	for range 100 {
		r := inst.Token(token).Get(t, path)
		if r.Status != http.StatusOK {
			t.Fatalf("list: %d %s", r.Status, r.Body)
		}
		page := r.JSON(t)
		all = append(all, page["offer_list"].([]any)...)
		next, _ := page["next_cursor"].(string)
		if next == "" {
			return all
		}
		path = "/my/entities/Offer?limit=1000&cursor=" + url.QueryEscape(next)
	}
	t.Fatal("more than 100 pages")
	return nil
}

// TestHardeningRecordsHostileValues sends, as a customer writing their own
// records, what used to end the process (a number whose exponent makes
// math/big give up, against a field with minimum and maximum) and other
// ambiguous JSON: each is a 400 naming the value's pointer, nothing is
// stored, and the server carries on.
func TestHardeningRecordsHostileValues(t *testing.T) {
	inst := enginetest.New(t)
	inst.CreateEntity(t, "/admin/v1/dynamic-entities", offerDef)
	kim := inst.Customer(t, "kim")
	r := inst.Token(kim).Send(t, enginetest.Request{Method: "POST", Path: "/my/entities/Offer", Header: enginetest.JSONHeader(), Body: []byte(`{"offer_id": "o1", "amount": 5}`)})
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	before := inst.Token(kim).Get(t, "/my/entities/Offer/o1")

	for _, tc := range []struct {
		name, body, pointer, code string
	}{
		{"exponent past big.Rat", `{"amount": 1e10000000}`, "/amount", "number_range"},
		{"negative exponent past big.Rat", `{"amount": 1e-10000000}`, "/amount", "number_range"},
		{"nested", `{"amount": 1, "terms": {"months": 1E+999999999}}`, "/terms/months", "number_range"},
		{"long literal", `{"amount": 1` + strings.Repeat("0", 200) + `}`, "/amount", "number_range"},
		{"duplicate key", `{"amount": 1, "amount": 1000000000}`, "/amount", "duplicate_key"},
		{"invalid UTF-8", "{\"amount\": 1, \"product\": \"ab\xff\"}", "/product", "invalid_utf8"},
		{"lone surrogate", `{"amount": 1, "product": "ab\udc00"}`, "/product", "lone_surrogate"},
		{"deep nesting", `{"amount": 1, "note": ` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + `}`, "*", "too_deep"},
		{"not an object", `[1]`, "", "type"},
	} {
		for _, m := range []struct{ method, path string }{
			{"POST", "/my/entities/Offer"}, {"PUT", "/my/entities/Offer/o1"}, {"PATCH", "/my/entities/Offer/o1"},
		} {
			t.Run(tc.name+"/"+m.method, func(t *testing.T) {
				r := inst.Token(kim).Send(t, enginetest.Request{Method: m.method, Path: m.path, Header: enginetest.JSONHeader(), Body: []byte(tc.body)})
				if r.Status != http.StatusBadRequest || !enginetest.HasViolation(r.Problem(t), "body", tc.pointer, tc.code) {
					t.Fatalf("%d %s; want 400 with %s at %s", r.Status, r.Body, tc.code, tc.pointer)
				}
			})
		}
	}

	t.Run("filters", func(t *testing.T) {
		for _, q := range []string{"amount=1e10000000", "amount[gt]=1e10000000", "amount=0x10", "amount[lt]=Infinity", "product=%FF%FE"} {
			r := inst.Token(kim).Get(t, "/my/entities/Offer?"+q)
			if r.Status != http.StatusBadRequest || !enginetest.HasViolation(r.Problem(t), "query", "*", "*") {
				t.Errorf("?%s: %d %s", q, r.Status, r.Body)
			}
		}
	})

	t.Run("a definition whose example is such a number", func(t *testing.T) {
		def := `{"Rate": {"properties": {"value": {"type": "number", "minimum": 0, "example": 1e10000000}}}}`
		r := inst.Admin().Send(t, enginetest.Request{Method: "POST", Path: "/admin/v1/dynamic-entities", Header: enginetest.JSONHeader(), Body: []byte(def)})
		if r.Status != http.StatusBadRequest || !enginetest.HasViolation(r.Problem(t), "definition", "/Rate/properties/value/example", "number_range") {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})

	t.Run("the dynamic_entity host", func(t *testing.T) {
		inst.CreateEntity(t, "/admin/v1/dynamic-entities", `{"PetEntity": {"required": ["name", "pet_number"], "properties": {
		  "name": {"type": "string", "example": "Rex"}, "pet_number": {"type": "integer", "minimum": 0, "example": 1}}}, "hasPersonalEntity": false}`)
		inst.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints", enginetest.ReadFile(t, "testdata/pets-entity-loose.yaml"))
		mapped := `{"id": {"entity": "PetEntity", "field": "pet_number"}, "name": {"entity": "PetEntity", "field": "name"}}`
		for _, op := range []string{"createLoosePet", "updateLoosePet"} {
			body := `{"operation_id": "` + op + `", "request_mapping": ` + mapped + `, "response_mapping": ` + mapped + `}`
			if r := inst.Admin().Send(t, enginetest.Request{Method: "POST", Path: "/admin/v1/endpoint-mappings", Header: enginetest.JSONHeader(), Body: []byte(body)}); r.Status != 201 {
				t.Fatalf("mapping %s: %d %s", op, r.Status, r.Body)
			}
		}
		created := inst.Admin().Send(t, enginetest.Request{Method: "POST", Path: "/loose-pets/pets", Header: enginetest.JSONHeader(), Body: []byte(`{"id": 1, "name": "Rex"}`)})
		if created.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", created.Status, created.Body)
		}
		list := inst.Admin().Get(t, "/entities/PetEntity").JSON(t)["pet_entity_list"].([]any)
		id := list[0].(map[string]any)["pet_entity_id"].(string)
		for _, m := range []struct{ method, path string }{{"POST", "/loose-pets/pets"}, {"PUT", "/loose-pets/pets/" + id}} {
			r := inst.Admin().Send(t, enginetest.Request{Method: m.method, Path: m.path, Header: enginetest.JSONHeader(), Body: []byte(`{"id": 1e10000000, "name": "Rex"}`)})
			if r.Status != http.StatusBadRequest || !enginetest.HasViolation(r.Problem(t), "body", "*", "number_range") {
				t.Fatalf("%s: %d %s", m.method, r.Status, r.Body)
			}
		}
	})

	if r := inst.Token(kim).Get(t, "/my/entities/Offer/o1"); r.Status != http.StatusOK ||
		string(r.Body) != string(before.Body) || r.Header.Get("ETag") != before.Header.Get("ETag") {
		t.Fatalf("the record changed: %d %s, was %s", r.Status, r.Body, before.Body)
	}
	if n := len(listOffers(t, inst, kim)); n != 1 {
		t.Fatalf("%d records stored; want the first only", n)
	}
}

// TestHardeningRecordsBodyLimit sends record bodies past --max-body-bytes
// over a real connection: a 413 before the body is read as JSON, and
// nothing stored. (The record routes used to accept up to the 16 MiB
// allowed for API documents.)
func TestHardeningRecordsBodyLimit(t *testing.T) {
	cfg := enginetest.Config(t.TempDir())
	cfg.MaxBodyBytes = 64 << 10
	inst := enginetest.New(t, enginetest.WithConfig(cfg))
	inst.CreateEntity(t, "/admin/v1/dynamic-entities", offerDef)
	kim := inst.Customer(t, "kim")
	fits := `{"offer_id": "o1", "amount": 1, "note": "` + strings.Repeat("n", 60<<10) + `"}`
	if r := inst.Token(kim).Loopback().Send(t, enginetest.Request{Method: "POST", Path: "/my/entities/Offer", Header: enginetest.JSONHeader(), Body: []byte(fits)}); r.Status != http.StatusCreated {
		t.Fatalf("a body within the bound: %d %s", r.Status, r.Body)
	}
	tooLarge := `{"amount": 1, "note": "` + strings.Repeat("n", 64<<10) + `"}`
	for _, m := range []struct{ method, path string }{
		{"POST", "/my/entities/Offer"}, {"PUT", "/my/entities/Offer/o1"}, {"PATCH", "/my/entities/Offer/o1"},
	} {
		t.Run(m.method, func(t *testing.T) {
			r := inst.Token(kim).Loopback().Send(t, enginetest.Request{Method: m.method, Path: m.path, Header: enginetest.JSONHeader(), Body: []byte(tooLarge)})
			if r.Status != http.StatusRequestEntityTooLarge || r.Problem(t).Code != "payload_too_large" {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		})
	}
	offers := listOffers(t, inst, kim)
	if len(offers) != 1 || len(offers[0].(map[string]any)["note"].(string)) != 60<<10 {
		t.Fatalf("the records changed: %d", len(offers))
	}
}

// TestHardeningRecordsPageMemory lists a customer's own large records with
// ?limit=1000: a page allocates for what it holds, not for the limit
// (which used to cost record size × 1000, 882 MiB for one 900 KiB record),
// and stops at the page byte budget with a next_cursor to carry on.
func TestHardeningRecordsPageMemory(t *testing.T) {
	inst := enginetest.New(t)
	inst.CreateEntity(t, "/admin/v1/dynamic-entities", offerDef)
	kim := inst.Customer(t, "kim")
	post := func(note int) {
		t.Helper()
		body := fmt.Sprintf(`{"amount": 1, "note": %q}`, strings.Repeat("n", note))
		if r := inst.Token(kim).Send(t, enginetest.Request{Method: "POST", Path: "/my/entities/Offer", Header: enginetest.JSONHeader(), Body: []byte(body)}); r.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
	}
	post(900 << 10)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r := inst.Token(kim).Get(t, "/my/entities/Offer?limit=1000")
	runtime.ReadMemStats(&after)
	if r.Status != http.StatusOK || len(r.JSON(t)["offer_list"].([]any)) != 1 {
		t.Fatalf("list: %d", r.Status)
	}
	// About 5 MiB go to the copies of the body on its way through
	// app.Test and the client; the limit used to add record size × 1000.
	if n := after.TotalAlloc - before.TotalAlloc; n > 16<<20 {
		t.Fatalf("listing one 900 KiB record allocated %d MiB", n>>20)
	}

	// Three more records of 400 KiB: the default budget of 1 MiB holds
	// the large one alone, then two, then one, each page with the cursor
	// of the next.
	for range 3 {
		post(400 << 10)
	}
	var sizes []int
	path := "/my/entities/Offer?limit=1000"
	for range 10 {
		page := inst.Token(kim).Get(t, path).JSON(t)
		sizes = append(sizes, len(page["offer_list"].([]any)))
		next, _ := page["next_cursor"].(string)
		if next == "" {
			break
		}
		path = "/my/entities/Offer?limit=1000&cursor=" + url.QueryEscape(next)
	}
	if fmt.Sprint(sizes) != "[1 2 1]" {
		t.Fatalf("pages of %v records; want [1 2 1]", sizes)
	}
}

// quotaConfig opens an instance whose users may keep 5 records and 64 KiB
// of each entity.
func quotaConfig(t *testing.T) *enginetest.Engine {
	t.Helper()
	cfg := enginetest.Config(t.TempDir())
	cfg.Records = records.Options{Quota: records.Quota{Records: 5, Bytes: 64 << 10}}
	inst := enginetest.New(t, enginetest.WithConfig(cfg))
	return inst
}

// TestHardeningRecordsQuotas fills a customer's personal records past the
// configured quotas, one at a time and from 40 requests at once: the
// count quota is a 429, the byte quota a 413, both record_quota_exceeded,
// and never overshot; other customers keep their own quota.
func TestHardeningRecordsQuotas(t *testing.T) {
	inst := quotaConfig(t)
	inst.CreateEntity(t, "/admin/v1/dynamic-entities", offerDef)
	kim, lee := inst.Customer(t, "kim"), inst.Customer(t, "lee")
	post := func(token, body string) enginetest.Response {
		return inst.Token(token).Send(t, enginetest.Request{Method: "POST", Path: "/my/entities/Offer", Header: enginetest.JSONHeader(), Body: []byte(body)})
	}

	t.Run("count", func(t *testing.T) {
		for i := range 5 {
			if r := post(kim, fmt.Sprintf(`{"offer_id": "k%d", "amount": 1}`, i)); r.Status != http.StatusCreated {
				t.Fatalf("create %d: %d %s", i, r.Status, r.Body)
			}
		}
		r := post(kim, `{"amount": 1}`)
		if r.Status != http.StatusTooManyRequests || r.Problem(t).Code != "record_quota_exceeded" || !strings.Contains(r.Problem(t).Message, "5 records") {
			t.Fatalf("past the count quota: %d %s", r.Status, r.Body)
		}
		if r := post(lee, `{"amount": 1}`); r.Status != http.StatusCreated {
			t.Fatalf("another customer: %d %s", r.Status, r.Body)
		}
		if r := inst.Token(kim).Delete(t, "/my/entities/Offer/k0"); r.Status != http.StatusNoContent {
			t.Fatalf("delete: %d", r.Status)
		}
		if r := post(kim, `{"amount": 1}`); r.Status != http.StatusCreated {
			t.Fatalf("after a delete: %d %s", r.Status, r.Body)
		}
	})

	t.Run("bytes", func(t *testing.T) {
		note := strings.Repeat("n", 20<<10)
		for i := range 3 {
			if r := post(lee, fmt.Sprintf(`{"offer_id": "l%d", "amount": 1, "note": %q}`, i, note)); r.Status != http.StatusCreated {
				t.Fatalf("create %d: %d %s", i, r.Status, r.Body)
			}
		}
		r := post(lee, fmt.Sprintf(`{"amount": 1, "note": %q}`, note))
		if r.Status != http.StatusRequestEntityTooLarge || r.Problem(t).Code != "record_quota_exceeded" || !strings.Contains(r.Problem(t).Message, "65536 bytes") {
			t.Fatalf("past the byte quota: %d %s", r.Status, r.Body)
		}
		// Growing a record past the quota is refused too; shrinking passes.
		r = inst.Token(lee).Send(t, enginetest.Request{Method: "PATCH", Path: "/my/entities/Offer/l0", Header: enginetest.JSONHeader(), Body: []byte(fmt.Sprintf(`{"note": %q}`, note+note))})
		if r.Status != http.StatusRequestEntityTooLarge {
			t.Fatalf("growth past the byte quota: %d %s", r.Status, r.Body)
		}
		if r := inst.Token(lee).Send(t, enginetest.Request{Method: "PATCH", Path: "/my/entities/Offer/l0", Header: enginetest.JSONHeader(), Body: []byte(`{"note": "short"}`)}); r.Status != http.StatusOK {
			t.Fatalf("shrink: %d %s", r.Status, r.Body)
		}
	})

	t.Run("40 at once", func(t *testing.T) {
		mia := inst.Customer(t, "mia")
		var wg sync.WaitGroup
		statuses := make(chan int, 40)
		for range 40 {
			wg.Go(func() { statuses <- post(mia, `{"amount": 1}`).Status })
		}
		wg.Wait()
		close(statuses)
		count := map[int]int{}
		for s := range statuses {
			count[s]++
		}
		if count[http.StatusCreated] != 5 || count[http.StatusTooManyRequests] != 35 {
			t.Fatalf("statuses %v; want 5 created and 35 refused", count)
		}
		if n := len(listOffers(t, inst, mia)); n != 5 {
			t.Fatalf("%d records stored; want 5", n)
		}
	})
}

// TestHardeningRecordsQuotaEveryWritePath writes shared records through the
// dynamic_entity host of a dynamic endpoint and through a script's
// entities binding: the same quota holds.
func TestHardeningRecordsQuotaEveryWritePath(t *testing.T) {
	inst := quotaConfig(t)

	t.Run("dynamic_entity host", func(t *testing.T) {
		inst.CreateEntity(t, "/admin/v1/dynamic-entities", `{"PetEntity": {"required": ["name", "pet_number"], "properties": {
		  "name": {"type": "string", "example": "Rex"}, "pet_number": {"type": "integer", "example": 1}}}, "hasPersonalEntity": false}`)
		inst.Admin().MustCreate(t, "/admin/v1/dynamic-endpoints", enginetest.ReadFile(t, "testdata/pets-entity.yaml"))
		mapped := `{"id": {"entity": "PetEntity", "field": "pet_number"}, "name": {"entity": "PetEntity", "field": "name"}}`
		body := `{"operation_id": "createPet", "request_mapping": ` + mapped + `, "response_mapping": ` + mapped + `}`
		if r := inst.Admin().Send(t, enginetest.Request{Method: "POST", Path: "/admin/v1/endpoint-mappings", Header: enginetest.JSONHeader(), Body: []byte(body)}); r.Status != 201 {
			t.Fatalf("mapping: %d %s", r.Status, r.Body)
		}
		for i := range 6 {
			r := inst.Admin().Send(t, enginetest.Request{Method: "POST", Path: "/entity-pets/pets", Header: enginetest.JSONHeader(), Body: []byte(fmt.Sprintf(`{"id": %d, "name": "Rex"}`, i))})
			want := http.StatusCreated
			if i == 5 {
				want = http.StatusTooManyRequests
			}
			if r.Status != want {
				t.Fatalf("pet %d: %d %s; want %d", i, r.Status, r.Body, want)
			}
		}
	})

	t.Run("script", func(t *testing.T) {
		inst.CreateBank(t, "gh.29.uk")
		inst.CreateEntity(t, "/admin/v1/dynamic-entities", `{"Visit": {"properties": {"bank": {"type": "string", "example": "b"}}}, "hasPersonalEntity": false}`)
		inst.CreateScript(t, "getAccounts", `await entities.create("Visit", {bank: "gh.29.uk"});
return await connector.call("getAccounts", args);`, 0)
		for i := range 6 {
			r := inst.Admin().Get(t, "/banks/gh.29.uk/accounts")
			want := http.StatusOK
			if i == 5 {
				want = http.StatusTooManyRequests
			}
			if r.Status != want {
				t.Fatalf("call %d: %d %s; want %d", i, r.Status, r.Body, want)
			}
			if want != http.StatusOK && r.Problem(t).Code != "record_quota_exceeded" {
				t.Fatalf("call %d: %s", i, r.Body)
			}
		}
	})
}

// TestHardeningRecordsConcurrentPatch sends 40 PATCHes of different fields
// of one record at once: the merge happens in the transaction that writes
// it, so all 40 survive (35 of 40 used to be lost).
func TestHardeningRecordsConcurrentPatch(t *testing.T) {
	inst := enginetest.New(t)
	r := inst.Admin().Send(t, enginetest.Request{Method: "POST", Path: "/admin/v1/dynamic-entities?allow_undeclared=true", Header: enginetest.JSONHeader(),
		Body: []byte(`{"Profile": {"properties": {"name": {"type": "string", "example": "a"}}}, "hasPersonalEntity": false}`)})
	if r.Status != http.StatusCreated {
		t.Fatalf("define: %d %s", r.Status, r.Body)
	}
	if r := inst.Admin().Send(t, enginetest.Request{Method: "POST", Path: "/entities/Profile", Header: enginetest.JSONHeader(), Body: []byte(`{"profile_id": "p1", "name": "a"}`)}); r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			body := fmt.Sprintf(`{"f%02d": %d}`, i, i)
			if r := inst.Admin().Send(t, enginetest.Request{Method: "PATCH", Path: "/entities/Profile/p1", Header: enginetest.JSONHeader(), Body: []byte(body)}); r.Status != http.StatusOK {
				t.Errorf("patch %d: %d %s", i, r.Status, r.Body)
			}
		})
	}
	wg.Wait()
	got := inst.Admin().Get(t, "/entities/Profile/p1").JSON(t)["profile"].(map[string]any)
	for i := range 40 {
		if v := got[fmt.Sprintf("f%02d", i)]; v != float64(i) {
			t.Errorf("field f%02d is %v after 40 concurrent patches", i, v)
		}
	}
}

// TestHardeningRecordsIfMatch reads a record's ETag and writes with it:
// a stale If-Match is a 412 precondition_failed that changes nothing.
func TestHardeningRecordsIfMatch(t *testing.T) {
	inst := enginetest.New(t)
	inst.CreateEntity(t, "/admin/v1/dynamic-entities", offerDef)
	kim := inst.Customer(t, "kim")
	with := func(tag string) map[string]string {
		h := enginetest.JSONHeader()
		h["If-Match"] = tag
		return h
	}
	created := inst.Token(kim).Send(t, enginetest.Request{Method: "POST", Path: "/my/entities/Offer", Header: enginetest.JSONHeader(), Body: []byte(`{"offer_id": "o1", "amount": 1}`)})
	first := inst.Token(kim).Get(t, "/my/entities/Offer/o1")
	tag := first.Header.Get("ETag")
	if created.Status != http.StatusCreated || tag == "" || created.Header.Get("ETag") != tag {
		t.Fatalf("ETag of the create %q, of the read %q", created.Header.Get("ETag"), tag)
	}
	patched := inst.Token(kim).Send(t, enginetest.Request{Method: "PATCH", Path: "/my/entities/Offer/o1", Header: with(tag), Body: []byte(`{"amount": 2}`)})
	now := patched.Header.Get("ETag")
	if patched.Status != http.StatusOK || now == "" || now == tag {
		t.Fatalf("patch with the current ETag: %d %s, ETag %q", patched.Status, patched.Body, now)
	}
	current := inst.Token(kim).Get(t, "/my/entities/Offer/o1")

	for _, tc := range []struct {
		name, method, path, ifMatch, body string
	}{
		{"patch", "PATCH", "/my/entities/Offer/o1", tag, `{"amount": 3}`},
		{"put", "PUT", "/my/entities/Offer/o1", tag, `{"amount": 3}`},
		{"delete", "DELETE", "/my/entities/Offer/o1", tag, ""},
		{"weak", "PATCH", "/my/entities/Offer/o1", "W/" + now, `{"amount": 3}`},
		{"any, missing record", "PUT", "/my/entities/Offer/o2", "*", `{"amount": 3}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := enginetest.Request{Method: tc.method, Path: tc.path, Header: with(tc.ifMatch)}
			if tc.body != "" {
				req.Body = []byte(tc.body)
			}
			r := inst.Token(kim).Send(t, req)
			if r.Status != http.StatusPreconditionFailed || r.Problem(t).Code != "precondition_failed" {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			after := inst.Token(kim).Get(t, "/my/entities/Offer/o1")
			if string(after.Body) != string(current.Body) || after.Header.Get("ETag") != now {
				t.Fatalf("the record changed: %s", after.Body)
			}
		})
	}
	if r := inst.Token(kim).Send(t, enginetest.Request{Method: "PUT", Path: "/my/entities/Offer/o1", Header: with(`"x", ` + now), Body: []byte(`{"amount": 4}`)}); r.Status != http.StatusOK {
		t.Fatalf("put with the current ETag in a list: %d %s", r.Status, r.Body)
	}
	if r := inst.Token(kim).Send(t, enginetest.Request{Method: "DELETE", Path: "/my/entities/Offer/o1", Header: with("*")}); r.Status != http.StatusNoContent {
		t.Fatalf("delete if any: %d %s", r.Status, r.Body)
	}
}
