package consent

import (
	"testing"
	"time"
)

// FuzzNormaliseDateTime: any query value, as an attacker may send it,
// either stays for validation to judge or becomes an RFC 3339 UTC
// date-time that normalises to itself.
func FuzzNormaliseDateTime(f *testing.F) {
	for _, s := range []string{"2017-04-05T10:43:07", "20170405T104307.25+0100", "2017-04-05", "2017-02-30", "", "9999-12-31T23:59:59,123456789Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		out, ok := NormaliseDateTime(DateTimesUTCWallClock, v)
		if !ok {
			if out != "" {
				t.Fatalf("refused %q but wrote %q", v, out)
			}
			return
		}
		if _, err := time.Parse(time.RFC3339Nano, out); err != nil && validDate(out) {
			t.Fatalf("%q became %q, not RFC 3339: %v", v, out, err)
		}
		if again, ok := NormaliseDateTime(DateTimesUTCWallClock, out); !ok || again != out {
			t.Fatalf("%q became %q, which normalises to %q, %v", v, out, again, ok)
		}
	})
}

// validDate tells whether an RFC 3339 text's date exists (the form does
// not check February 30th; validation does).
func validDate(s string) bool {
	_, err := time.Parse("2006-01-02", s[:10])
	return err == nil
}

// FuzzParseProfiles: any profile text is accepted or refused with
// violations, never a panic, and an accepted one binds a document.
func FuzzParseProfiles(f *testing.F) {
	for _, name := range []string{"uk-ob-v4.0-ais.json", "uk-ob-v3.1-ais.json"} {
		b, err := builtinFiles.ReadFile("profiles/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"profile_id": "x", "extends": "x"}`))
	f.Fuzz(func(t *testing.T, src []byte) {
		ps, err := ParseProfiles(src)
		if err != nil {
			return
		}
		for _, id := range ps.order {
			if p, _ := ps.Get(id); len(p.check()) != 0 {
				t.Fatalf("profile %s accepted with faults %v", id, p.check())
			}
		}
	})
}
