package recordapi

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/dynapi/dynapi/entities/records"
)

// decodedList is the list handler as it was before pages were written
// from the stored JSON: decoded records, encoded again by c.JSON.
func (a *API) decodedList(cl *call) error {
	args := cl.c.Context().QueryArgs()
	q, err := query(cl.entity, cl.schema, func(fn func(name, value string)) {
		args.VisitAll(func(k, v []byte) { fn(string(k), string(v)) })
	})
	if err != nil {
		return err
	}
	page, err := a.Records.List(cl.ctx, cl.schema, cl.owner, q)
	if err != nil {
		return err
	}
	out := map[string]any{cl.entity.Def.ListKey(): nonNil(page.Records)}
	if page.Next != "" {
		out["next_cursor"] = page.Next
	}
	if page.Total != nil {
		out["total"] = *page.Total
	}
	return cl.c.JSON(out)
}

// TestListBodyAsDecoded checks that list answers, page by page, the bytes
// the decoding handler answers: same records, members, order and escaping.
func TestListBodyAsDecoded(t *testing.T) {
	f := newListFixture(t, 300)
	f.app.Get("/old/entities/:name", func(c *fiber.Ctx) error {
		return f.api.decodedList(&call{c: c, ctx: c.UserContext(), entity: f.entity, schema: f.entity.Schema})
	})
	f.app.Get("/old/my/entities/:name", func(c *fiber.Ctx) error {
		return f.api.decodedList(&call{c: c, ctx: c.UserContext(), entity: f.entity, schema: f.entity.PersonalSchema,
			owner: c.Get("X-Owner")})
	})
	ctx := context.Background()
	long := strings.Repeat("c", 256)
	odd := []map[string]any{
		{"loan_offer_id": "odd-1", "amount": json.Number("1.50"), "product": "P3", "valid_until": "2027-01-01", "customer": long},
		{"loan_offer_id": "odd-2", "amount": json.Number("123456789012345678901234567890"), "product": "P3", "valid_until": "2027-01-02", "customer": long + "b"},
		{"loan_offer_id": "odd-3", "amount": 2e21, "product": "<P3&>", "valid_until": "2027-01-03", "customer": long + "a",
			"extra": map[string]any{"b": []any{1, "<x>", nil}, "a": "line\nbreak \u2028 é"}},
		{"loan_offer_id": "odd/4 \"quoted\"", "amount": 0, "product": "P3", "customer": "c\x00\x01"},
	}
	for _, rec := range odd {
		if _, err := f.api.Records.Create(ctx, f.entity.Schema, "", "", rec); err != nil {
			t.Fatal(err)
		}
	}
	for i, owner := range []string{"u1", "u2", "u1", "u1", "u2"} {
		rec := map[string]any{"amount": json.Number("10.0"), "product": []string{"P3", "P4"}[i%2], "customer": long + owner,
			"valid_until": "2026-05-0" + string(rune('1'+i))}
		if _, err := f.api.Records.Create(ctx, f.entity.PersonalSchema, owner, "", rec); err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct {
		path, owner string
	}{
		{"/entities/LoanOffer", ""},
		{"/entities/LoanOffer?limit=7&count=true", ""},
		{"/entities/LoanOffer?product=P3&limit=50", ""},
		{"/entities/LoanOffer?product=P3&product=%3CP3%26%3E&limit=9&count=true", ""},
		{"/entities/LoanOffer?product=P3&sort_by=amount&sort_direction=desc&limit=8", ""},
		{"/entities/LoanOffer?amount[gte]=50000&amount[lt]=90000&sort_by=amount&limit=11", ""},
		{"/entities/LoanOffer?customer[gte]=" + long + "&limit=25&count=true", ""},
		{"/entities/LoanOffer?customer=" + long + "a", ""},
		{"/entities/LoanOffer?customer[gt]=customer-05000&product=P3&sort_by=customer&limit=13", ""},
		{"/entities/LoanOffer?valid_until[lt]=2027-01-01&product=P1&product=P2&limit=20", ""},
		{"/entities/LoanOffer?product=P3&valid_until=2027-01-02", ""},
		{"/entities/LoanOffer?product=none&count=true", ""},
		{"/entities/LoanOffer?amount[gt]=5&amount[lt]=1", ""},
		{"/my/entities/LoanOffer", "u1"},
		{"/my/entities/LoanOffer?limit=1&count=true", "u1"},
		{"/my/entities/LoanOffer?product=P3&sort_by=valid_until&sort_direction=desc&limit=1", "u2"},
		{"/my/entities/LoanOffer?customer[gte]=" + long, "u2"},
		{"/my/entities/LoanOffer", "nobody"},
	}
	for _, tc := range tests {
		t.Run(tc.owner+tc.path, func(t *testing.T) {
			var got, want fasthttp.RequestCtx
			uri := tc.path
			for page := 0; ; page++ {
				f.getAs(&got, uri, tc.owner)
				f.getAs(&want, "/old"+uri, tc.owner)
				if got.Response.StatusCode() != 200 || want.Response.StatusCode() != 200 {
					t.Fatalf("page %d: %d %s; decoded %d %s", page, got.Response.StatusCode(), got.Response.Body(),
						want.Response.StatusCode(), want.Response.Body())
				}
				if g, w := got.Response.Header.ContentType(), want.Response.Header.ContentType(); !bytes.Equal(g, w) {
					t.Fatalf("content type %s; decoded %s", g, w)
				}
				if !bytes.Equal(got.Response.Body(), want.Response.Body()) {
					t.Fatalf("page %d:\n%s\ndecoded:\n%s", page, got.Response.Body(), want.Response.Body())
				}
				var body map[string]any
				if err := json.Unmarshal(got.Response.Body(), &body); err != nil {
					t.Fatalf("page %d: %v: %s", page, err, got.Response.Body())
				}
				next, _ := body["next_cursor"].(string)
				if next == "" {
					break
				}
				if page > 100 {
					t.Fatal("more than 100 pages")
				}
				sep := "?"
				if strings.Contains(tc.path, "?") {
					sep = "&"
				}
				uri = tc.path + sep + "cursor=" + url.QueryEscape(next)
			}
		})
	}
}

// TestListBody checks the envelope's members: sorted as json.Marshal
// sorts a map's keys, optional ones left out, keys escaped.
func TestListBody(t *testing.T) {
	total := 3
	raw := []json.RawMessage{json.RawMessage(`{"a":1}`), json.RawMessage(`{"b":"\u003c"}`)}
	tests := []struct {
		key  string
		page records.Page
	}{
		{"loan_offer_list", records.Page{Raw: raw, Next: "abc-_", Total: &total}},
		{"zebra_list", records.Page{Raw: raw, Next: "abc", Total: &total}},
		{"next_list", records.Page{Raw: raw[:1], Total: &total}},
		{"a<&>\"\\\u2028é\x01_list", records.Page{Raw: raw}},
		{"empty_list", records.Page{}},
	}
	for _, tc := range tests {
		out := map[string]any{tc.key: []map[string]any{}}
		if len(tc.page.Raw) > 0 {
			out[tc.key] = tc.page.Raw
		}
		if tc.page.Next != "" {
			out["next_cursor"] = tc.page.Next
		}
		if tc.page.Total != nil {
			out["total"] = *tc.page.Total
		}
		want, err := json.Marshal(out)
		if err != nil {
			t.Fatal(err)
		}
		if got := listBody(tc.key, &tc.page); !bytes.Equal(got, want) {
			t.Errorf("listBody(%q) = %s; want %s", tc.key, got, want)
		}
	}
}
