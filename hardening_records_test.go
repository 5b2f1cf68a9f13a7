package dynapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/dynapi/dynapi"
	"github.com/dynapi/dynapi/entities/records"
)

// offerDef is a personal entity with typed, bounded fields: what a bank
// lets each customer keep of their own.
const offerDef = `{"Offer": {"description": "A customer's offer", "required": ["amount"], "properties": {
  "amount": {"type": "number", "minimum": 0, "maximum": 1000000, "example": 1000.5},
  "product": {"type": "string", "minLength": 2, "maxLength": 30, "example": "PERSONAL"},
  "terms": {"type": "object", "properties": {"months": {"type": "integer", "minimum": 1, "maximum": 600, "example": 12}}},
  "tags": {"type": "array", "items": {"type": "string", "maxLength": 10}, "example": ["a"]},
  "note": {"type": "string", "example": "n"}}}, "hasPersonalEntity": true}`

// customer makes a user with no role at all and logs it in: what any
// customer of the bank can be.
func customer(t testing.TB, inst *dynapi.Instance, name string) string {
	t.Helper()
	password := "Pass-" + name + "-0123456789"
	createUser(t, inst, name, password)
	return login(t, inst, name, password)
}

// listOffers returns a customer's personal offers, every page of them.
func listOffers(t testing.TB, inst *dynapi.Instance, token string) []any {
	t.Helper()
	var all []any
	path := "/my/entities/Offer?limit=1000"
	for range 100 {
		r := do(t, inst, request{method: "GET", path: path, headers: as(token)})
		if r.status != http.StatusOK {
			t.Fatalf("list: %d %s", r.status, r.body)
		}
		page := r.json(t)
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
	inst := open(t, "")
	createEntity(t, inst, "/admin/v1/dynamic-entities", offerDef)
	kim := customer(t, inst, "kim")
	r := do(t, inst, request{method: "POST", path: "/my/entities/Offer", headers: as(kim), body: []byte(`{"offer_id": "o1", "amount": 5}`)})
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	before := do(t, inst, request{method: "GET", path: "/my/entities/Offer/o1", headers: as(kim)})

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
				r := do(t, inst, request{method: m.method, path: m.path, headers: as(kim), body: []byte(tc.body)})
				if r.status != http.StatusBadRequest || !hasViolation(r.problem(t), "body", tc.pointer, tc.code) {
					t.Fatalf("%d %s; want 400 with %s at %s", r.status, r.body, tc.code, tc.pointer)
				}
			})
		}
	}

	t.Run("filters", func(t *testing.T) {
		for _, q := range []string{"amount=1e10000000", "amount[gt]=1e10000000", "amount=0x10", "amount[lt]=Infinity", "product=%FF%FE"} {
			r := do(t, inst, request{method: "GET", path: "/my/entities/Offer?" + q, headers: as(kim)})
			if r.status != http.StatusBadRequest || !hasViolation(r.problem(t), "query", "*", "*") {
				t.Errorf("?%s: %d %s", q, r.status, r.body)
			}
		}
	})

	t.Run("a definition whose example is such a number", func(t *testing.T) {
		def := `{"Rate": {"properties": {"value": {"type": "number", "minimum": 0, "example": 1e10000000}}}}`
		r := do(t, inst, request{method: "POST", path: "/admin/v1/dynamic-entities", headers: jsonHeaders(), body: []byte(def)})
		if r.status != http.StatusBadRequest || !hasViolation(r.problem(t), "definition", "/Rate/properties/value/example", "number_range") {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})

	t.Run("the dynamic_entity host", func(t *testing.T) {
		createEntity(t, inst, "/admin/v1/dynamic-entities", `{"PetEntity": {"required": ["name", "pet_number"], "properties": {
		  "name": {"type": "string", "example": "Rex"}, "pet_number": {"type": "integer", "minimum": 0, "example": 1}}}, "hasPersonalEntity": false}`)
		mustCreate(t, inst, "/admin/v1/dynamic-endpoints", readFile(t, "testdata/pets-entity-loose.yaml"))
		mapped := `{"id": {"entity": "PetEntity", "field": "pet_number"}, "name": {"entity": "PetEntity", "field": "name"}}`
		for _, op := range []string{"createLoosePet", "updateLoosePet"} {
			body := `{"operation_id": "` + op + `", "request_mapping": ` + mapped + `, "response_mapping": ` + mapped + `}`
			if r := do(t, inst, request{method: "POST", path: "/admin/v1/endpoint-mappings", headers: jsonHeaders(), body: []byte(body)}); r.status != 201 {
				t.Fatalf("mapping %s: %d %s", op, r.status, r.body)
			}
		}
		created := do(t, inst, request{method: "POST", path: "/loose-pets/pets", headers: jsonHeaders(), body: []byte(`{"id": 1, "name": "Rex"}`)})
		if created.status != http.StatusCreated {
			t.Fatalf("create: %d %s", created.status, created.body)
		}
		list := do(t, inst, request{method: "GET", path: "/entities/PetEntity"}).json(t)["pet_entity_list"].([]any)
		id := list[0].(map[string]any)["pet_entity_id"].(string)
		for _, m := range []struct{ method, path string }{{"POST", "/loose-pets/pets"}, {"PUT", "/loose-pets/pets/" + id}} {
			r := do(t, inst, request{method: m.method, path: m.path, headers: jsonHeaders(), body: []byte(`{"id": 1e10000000, "name": "Rex"}`)})
			if r.status != http.StatusBadRequest || !hasViolation(r.problem(t), "body", "*", "number_range") {
				t.Fatalf("%s: %d %s", m.method, r.status, r.body)
			}
		}
	})

	if r := do(t, inst, request{method: "GET", path: "/my/entities/Offer/o1", headers: as(kim)}); r.status != http.StatusOK ||
		string(r.body) != string(before.body) || r.header.Get("ETag") != before.header.Get("ETag") {
		t.Fatalf("the record changed: %d %s, was %s", r.status, r.body, before.body)
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
	cfg := testConfig(t.TempDir())
	cfg.MaxBodyBytes = 64 << 10
	inst := openWith(t, cfg)
	t.Cleanup(func() { closeInstance(t, inst) })
	addr := serveLoopback(t, inst)
	createEntity(t, inst, "/admin/v1/dynamic-entities", offerDef)
	kim := customer(t, inst, "kim")
	fits := `{"offer_id": "o1", "amount": 1, "note": "` + strings.Repeat("n", 60<<10) + `"}`
	if r := doLoopback(t, inst, addr, request{method: "POST", path: "/my/entities/Offer", headers: as(kim), body: []byte(fits)}); r.status != http.StatusCreated {
		t.Fatalf("a body within the bound: %d %s", r.status, r.body)
	}
	tooLarge := `{"amount": 1, "note": "` + strings.Repeat("n", 64<<10) + `"}`
	for _, m := range []struct{ method, path string }{
		{"POST", "/my/entities/Offer"}, {"PUT", "/my/entities/Offer/o1"}, {"PATCH", "/my/entities/Offer/o1"},
	} {
		t.Run(m.method, func(t *testing.T) {
			r := doLoopback(t, inst, addr, request{method: m.method, path: m.path, headers: as(kim), body: []byte(tooLarge)})
			if r.status != http.StatusRequestEntityTooLarge || r.problem(t).Code != "payload_too_large" {
				t.Fatalf("%d %s", r.status, r.body)
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
	inst := open(t, "")
	createEntity(t, inst, "/admin/v1/dynamic-entities", offerDef)
	kim := customer(t, inst, "kim")
	post := func(note int) {
		t.Helper()
		body := fmt.Sprintf(`{"amount": 1, "note": %q}`, strings.Repeat("n", note))
		if r := do(t, inst, request{method: "POST", path: "/my/entities/Offer", headers: as(kim), body: []byte(body)}); r.status != http.StatusCreated {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
	}
	post(900 << 10)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r := do(t, inst, request{method: "GET", path: "/my/entities/Offer?limit=1000", headers: as(kim)})
	runtime.ReadMemStats(&after)
	if r.status != http.StatusOK || len(r.json(t)["offer_list"].([]any)) != 1 {
		t.Fatalf("list: %d", r.status)
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
		page := do(t, inst, request{method: "GET", path: path, headers: as(kim)}).json(t)
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
func quotaConfig(t *testing.T) *dynapi.Instance {
	t.Helper()
	cfg := testConfig(t.TempDir())
	cfg.Records = records.Options{Quota: records.Quota{Records: 5, Bytes: 64 << 10}}
	inst := openWith(t, cfg)
	t.Cleanup(func() { closeInstance(t, inst) })
	return inst
}

// TestHardeningRecordsQuotas fills a customer's personal records past the
// configured quotas, one at a time and from 40 requests at once: the
// count quota is a 429, the byte quota a 413, both record_quota_exceeded,
// and never overshot; other customers keep their own quota.
func TestHardeningRecordsQuotas(t *testing.T) {
	inst := quotaConfig(t)
	createEntity(t, inst, "/admin/v1/dynamic-entities", offerDef)
	kim, lee := customer(t, inst, "kim"), customer(t, inst, "lee")
	post := func(token, body string) response {
		return do(t, inst, request{method: "POST", path: "/my/entities/Offer", headers: as(token), body: []byte(body)})
	}

	t.Run("count", func(t *testing.T) {
		for i := range 5 {
			if r := post(kim, fmt.Sprintf(`{"offer_id": "k%d", "amount": 1}`, i)); r.status != http.StatusCreated {
				t.Fatalf("create %d: %d %s", i, r.status, r.body)
			}
		}
		r := post(kim, `{"amount": 1}`)
		if r.status != http.StatusTooManyRequests || r.problem(t).Code != "record_quota_exceeded" || !contains(r.problem(t).Message, "5 records") {
			t.Fatalf("past the count quota: %d %s", r.status, r.body)
		}
		if r := post(lee, `{"amount": 1}`); r.status != http.StatusCreated {
			t.Fatalf("another customer: %d %s", r.status, r.body)
		}
		if r := do(t, inst, request{method: "DELETE", path: "/my/entities/Offer/k0", headers: as(kim)}); r.status != http.StatusNoContent {
			t.Fatalf("delete: %d", r.status)
		}
		if r := post(kim, `{"amount": 1}`); r.status != http.StatusCreated {
			t.Fatalf("after a delete: %d %s", r.status, r.body)
		}
	})

	t.Run("bytes", func(t *testing.T) {
		note := strings.Repeat("n", 20<<10)
		for i := range 3 {
			if r := post(lee, fmt.Sprintf(`{"offer_id": "l%d", "amount": 1, "note": %q}`, i, note)); r.status != http.StatusCreated {
				t.Fatalf("create %d: %d %s", i, r.status, r.body)
			}
		}
		r := post(lee, fmt.Sprintf(`{"amount": 1, "note": %q}`, note))
		if r.status != http.StatusRequestEntityTooLarge || r.problem(t).Code != "record_quota_exceeded" || !contains(r.problem(t).Message, "65536 bytes") {
			t.Fatalf("past the byte quota: %d %s", r.status, r.body)
		}
		// Growing a record past the quota is refused too; shrinking passes.
		r = do(t, inst, request{method: "PATCH", path: "/my/entities/Offer/l0", headers: as(lee), body: []byte(fmt.Sprintf(`{"note": %q}`, note+note))})
		if r.status != http.StatusRequestEntityTooLarge {
			t.Fatalf("growth past the byte quota: %d %s", r.status, r.body)
		}
		if r := do(t, inst, request{method: "PATCH", path: "/my/entities/Offer/l0", headers: as(lee), body: []byte(`{"note": "short"}`)}); r.status != http.StatusOK {
			t.Fatalf("shrink: %d %s", r.status, r.body)
		}
	})

	t.Run("40 at once", func(t *testing.T) {
		mia := customer(t, inst, "mia")
		var wg sync.WaitGroup
		statuses := make(chan int, 40)
		for range 40 {
			wg.Go(func() { statuses <- post(mia, `{"amount": 1}`).status })
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
		createEntity(t, inst, "/admin/v1/dynamic-entities", `{"PetEntity": {"required": ["name", "pet_number"], "properties": {
		  "name": {"type": "string", "example": "Rex"}, "pet_number": {"type": "integer", "example": 1}}}, "hasPersonalEntity": false}`)
		mustCreate(t, inst, "/admin/v1/dynamic-endpoints", readFile(t, "testdata/pets-entity.yaml"))
		mapped := `{"id": {"entity": "PetEntity", "field": "pet_number"}, "name": {"entity": "PetEntity", "field": "name"}}`
		body := `{"operation_id": "createPet", "request_mapping": ` + mapped + `, "response_mapping": ` + mapped + `}`
		if r := do(t, inst, request{method: "POST", path: "/admin/v1/endpoint-mappings", headers: jsonHeaders(), body: []byte(body)}); r.status != 201 {
			t.Fatalf("mapping: %d %s", r.status, r.body)
		}
		for i := range 6 {
			r := do(t, inst, request{method: "POST", path: "/entity-pets/pets", headers: jsonHeaders(), body: []byte(fmt.Sprintf(`{"id": %d, "name": "Rex"}`, i))})
			want := http.StatusCreated
			if i == 5 {
				want = http.StatusTooManyRequests
			}
			if r.status != want {
				t.Fatalf("pet %d: %d %s; want %d", i, r.status, r.body, want)
			}
		}
	})

	t.Run("script", func(t *testing.T) {
		createBank(t, inst, "gh.29.uk")
		createEntity(t, inst, "/admin/v1/dynamic-entities", `{"Visit": {"properties": {"bank": {"type": "string", "example": "b"}}}, "hasPersonalEntity": false}`)
		createScript(t, inst, "getAccounts", `await entities.create("Visit", {bank: "gh.29.uk"});
return await connector.call("getAccounts", args);`, 0)
		for i := range 6 {
			r := do(t, inst, request{method: "GET", path: "/banks/gh.29.uk/accounts"})
			want := http.StatusOK
			if i == 5 {
				want = http.StatusTooManyRequests
			}
			if r.status != want {
				t.Fatalf("call %d: %d %s; want %d", i, r.status, r.body, want)
			}
			if want != http.StatusOK && r.problem(t).Code != "record_quota_exceeded" {
				t.Fatalf("call %d: %s", i, r.body)
			}
		}
	})
}

// TestHardeningRecordsConcurrentPatch sends 40 PATCHes of different fields
// of one record at once: the merge happens in the transaction that writes
// it, so all 40 survive (35 of 40 used to be lost).
func TestHardeningRecordsConcurrentPatch(t *testing.T) {
	inst := open(t, "")
	r := do(t, inst, request{method: "POST", path: "/admin/v1/dynamic-entities?allow_undeclared=true", headers: jsonHeaders(),
		body: []byte(`{"Profile": {"properties": {"name": {"type": "string", "example": "a"}}}, "hasPersonalEntity": false}`)})
	if r.status != http.StatusCreated {
		t.Fatalf("define: %d %s", r.status, r.body)
	}
	if r := do(t, inst, request{method: "POST", path: "/entities/Profile", headers: jsonHeaders(), body: []byte(`{"profile_id": "p1", "name": "a"}`)}); r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			body := fmt.Sprintf(`{"f%02d": %d}`, i, i)
			if r := do(t, inst, request{method: "PATCH", path: "/entities/Profile/p1", headers: jsonHeaders(), body: []byte(body)}); r.status != http.StatusOK {
				t.Errorf("patch %d: %d %s", i, r.status, r.body)
			}
		})
	}
	wg.Wait()
	got := do(t, inst, request{method: "GET", path: "/entities/Profile/p1"}).json(t)["profile"].(map[string]any)
	for i := range 40 {
		if v := got[fmt.Sprintf("f%02d", i)]; v != float64(i) {
			t.Errorf("field f%02d is %v after 40 concurrent patches", i, v)
		}
	}
}

// TestHardeningRecordsIfMatch reads a record's ETag and writes with it:
// a stale If-Match is a 412 precondition_failed that changes nothing.
func TestHardeningRecordsIfMatch(t *testing.T) {
	inst := open(t, "")
	createEntity(t, inst, "/admin/v1/dynamic-entities", offerDef)
	kim := customer(t, inst, "kim")
	with := func(tag string) map[string]string {
		h := as(kim)
		h["If-Match"] = tag
		return h
	}
	created := do(t, inst, request{method: "POST", path: "/my/entities/Offer", headers: as(kim), body: []byte(`{"offer_id": "o1", "amount": 1}`)})
	first := do(t, inst, request{method: "GET", path: "/my/entities/Offer/o1", headers: as(kim)})
	tag := first.header.Get("ETag")
	if created.status != http.StatusCreated || tag == "" || created.header.Get("ETag") != tag {
		t.Fatalf("ETag of the create %q, of the read %q", created.header.Get("ETag"), tag)
	}
	patched := do(t, inst, request{method: "PATCH", path: "/my/entities/Offer/o1", headers: with(tag), body: []byte(`{"amount": 2}`)})
	now := patched.header.Get("ETag")
	if patched.status != http.StatusOK || now == "" || now == tag {
		t.Fatalf("patch with the current ETag: %d %s, ETag %q", patched.status, patched.body, now)
	}
	current := do(t, inst, request{method: "GET", path: "/my/entities/Offer/o1", headers: as(kim)})

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
			req := request{method: tc.method, path: tc.path, headers: with(tc.ifMatch)}
			if tc.body != "" {
				req.body = []byte(tc.body)
			}
			r := do(t, inst, req)
			if r.status != http.StatusPreconditionFailed || r.problem(t).Code != "precondition_failed" {
				t.Fatalf("%d %s", r.status, r.body)
			}
			after := do(t, inst, request{method: "GET", path: "/my/entities/Offer/o1", headers: as(kim)})
			if string(after.body) != string(current.body) || after.header.Get("ETag") != now {
				t.Fatalf("the record changed: %s", after.body)
			}
		})
	}
	if r := do(t, inst, request{method: "PUT", path: "/my/entities/Offer/o1", headers: with(`"x", ` + now), body: []byte(`{"amount": 4}`)}); r.status != http.StatusOK {
		t.Fatalf("put with the current ETag in a list: %d %s", r.status, r.body)
	}
	if r := do(t, inst, request{method: "DELETE", path: "/my/entities/Offer/o1", headers: with("*")}); r.status != http.StatusNoContent {
		t.Fatalf("delete if any: %d %s", r.status, r.body)
	}
}
