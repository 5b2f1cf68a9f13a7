package records

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dynapi/dynapi/internal/strictjson"
)

// Index key encodings. An encoded value is a tag byte and the value's
// order-preserving form; no encoded value contains "\x00", which ends it in
// an index key (encodedValue + "\x00" + id).
const (
	tagNull  = '0' // no value: sorts before every value
	tagValue = '1'
	// valuesEnd is above every encoded non-null value.
	valuesEnd = "2"
	// valuesStart is at or below every encoded non-null value.
	valuesStart = "1"

	// maxExact is how many bytes of a string the index holds. Longer
	// strings share the index position of their first maxExact bytes; the
	// filters are always checked on the record, so they stay exact, but
	// such strings order among themselves by id.
	maxExact = 256

	// maxIDLength bounds primary key values.
	maxIDLength = 512
)

// errKind reports a value that does not fit its field's kind.
type errKind struct {
	kind Kind
	got  any
}

func (e *errKind) Error() string {
	switch e.kind {
	case KindDate:
		return "must be a date (yyyy-MM-dd)"
	case KindNumber:
		if f, ok := e.got.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
			return "must be a finite number"
		}
		return "must be a number"
	case KindBool:
		return "must be a boolean"
	default:
		return "must be a string"
	}
}

// encode returns the encoded form of a record value of kind: tagged, and
// for long strings cut to what the index holds when index is set. nil
// encodes as the null tag.
func encode(kind Kind, v any, index bool) (string, error) {
	if v == nil {
		return string(rune(tagNull)), nil
	}
	switch kind {
	case KindString:
		s, ok := v.(string)
		if !ok {
			return "", &errKind{kind, v}
		}
		if index && len(s) > maxExact {
			s = s[:maxExact]
		}
		return encodeString(s), nil
	case KindNumber:
		f, ok := number(v)
		if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
			return "", &errKind{kind, v}
		}
		return encodeNumber(f), nil
	case KindBool:
		b, ok := v.(bool)
		if !ok {
			return "", &errKind{kind, v}
		}
		if b {
			return "11", nil
		}
		return "10", nil
	case KindDate:
		s, ok := v.(string)
		if !ok || !isDate(s) {
			return "", &errKind{kind, v}
		}
		return string(rune(tagValue)) + s, nil
	}
	return "", fmt.Errorf("records: invalid kind %d", int(kind))
}

// encodeText parses a filter value given as text, per kind, and returns
// its full encoding, the index position it maps to, and whether that
// position holds this value only (false for strings of maxExact bytes or
// more, whose position longer strings share).
func encodeText(kind Kind, text string) (full, part string, exact bool, err error) {
	switch kind {
	case KindString:
		if !utf8.ValidString(text) {
			return "", "", false, errors.New("must be UTF-8 text")
		}
		full = encodeString(text)
		if len(text) < maxExact {
			return full, full, true, nil
		}
		return full, encodeString(text[:maxExact]), false, nil
	case KindNumber:
		f, ok := parseNumber(text)
		if !ok {
			return "", "", false, errors.New("must be a finite number, written as in JSON")
		}
		full = encodeNumber(f)
	case KindBool:
		switch text {
		case "true":
			full = "11"
		case "false":
			full = "10"
		default:
			return "", "", false, errors.New("must be true or false")
		}
	case KindDate:
		if !isDate(text) {
			return "", "", false, errors.New("must be a date (yyyy-MM-dd)")
		}
		full = string(rune(tagValue)) + text
	default:
		return "", "", false, fmt.Errorf("records: invalid kind %d", int(kind))
	}
	return full, full, true, nil
}

// parseNumber reads a filter's number: JSON's number syntax (no hex, no
// "Inf", no "+"), within strictjson's bounds on length and exponent, and
// finite as a float64.
func parseNumber(text string) (float64, bool) {
	v, err := strictjson.Decode([]byte(text))
	n, ok := v.(json.Number)
	if err != nil || !ok {
		return 0, false
	}
	f, err := n.Float64()
	return f, err == nil && !math.IsInf(f, 0)
}

// encodeString escapes s so that it holds no "\x00" and keeps its byte
// order: "\x00" becomes "\x01\x01" and "\x01" becomes "\x01\x02". The
// mapping is monotonic and prefix-free, and "\x00" (the end of the value
// in an index key) sorts below every escaped byte, so a prefix still sorts
// first.
func encodeString(s string) string {
	special := 0
	for i := 0; i < len(s); i++ {
		if s[i] < 2 {
			special++
		}
	}
	b := make([]byte, 0, 1+len(s)+special)
	b = append(b, tagValue)
	if special == 0 {
		return string(append(b, s...))
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case 0:
			b = append(b, 1, 1)
		case 1:
			b = append(b, 1, 2)
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

// encodeNumber renders f as 16 hex digits of its IEEE 754 bits, with the
// sign bit flipped for positive numbers and every bit flipped for negative
// ones, which makes the unsigned order of the bits the numeric order.
// Negative zero is zero.
func encodeNumber(f float64) string {
	if f == 0 {
		f = 0
	}
	bits := math.Float64bits(f)
	if bits>>63 == 0 {
		bits |= 1 << 63
	} else {
		bits = ^bits
	}
	var raw [8]byte
	for i := range raw {
		raw[i] = byte(bits >> (56 - 8*i))
	}
	var out [17]byte
	out[0] = tagValue
	hex.Encode(out[1:], raw[:])
	return string(out[:])
}

// number converts the numeric types a decoded record may hold.
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int8:
		return float64(n), true
	case int16:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint:
		return float64(n), true
	case uint8:
		return float64(n), true
	case uint16:
		return float64(n), true
	case uint32:
		return float64(n), true
	case uint64:
		return float64(n), true
	}
	return 0, false
}

// isDate reports whether s is a valid yyyy-MM-dd date.
func isDate(s string) bool {
	if len(s) != 10 {
		return false
	}
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

// validID reports whether s can be a primary key value.
func validID(s string) bool {
	return s != "" && len(s) <= maxIDLength && !strings.ContainsRune(s, 0) && utf8.ValidString(s)
}

// indexKey is the key of a record's entry in a field index.
func indexKey(part, id string) string { return part + "\x00" + id }

// idOfIndexKey returns the record id an index key ends with.
func idOfIndexKey(key string) string {
	if i := strings.IndexByte(key, 0); i >= 0 {
		return key[i+1:]
	}
	return ""
}

// Bucket and key names. Names, ids and owners are path-escaped ("%", "/"
// and "\x00" become %25, %2F and %00) and joined with "/".
const (
	metaBucket = "records_meta" // schema/<bank>/<entity> and count/<bank>/<entity>/<owner>
	refsBucket = "records_refs" // back-links: <target path> "\x00" <referrer path>/<field>
)

var pathEscaper = strings.NewReplacer("%", "%25", "/", "%2F", "\x00", "%00")

func esc(s string) string {
	if !strings.ContainsAny(s, "%/\x00") {
		return s
	}
	return pathEscaper.Replace(s)
}

func unesc(s string) (string, error) { return url.PathUnescape(s) }

func recordsBucket(bank, entity, owner string) string {
	return "records/" + esc(bank) + "/" + esc(entity) + "/" + esc(owner)
}

func (l *layout) records(owner string) string {
	if owner == "" && l.shared != "" {
		return l.shared
	}
	return recordsBucket(l.bank, l.entity, owner)
}

func (l *layout) index(owner, field string) string {
	return "records_index/" + esc(l.bank) + "/" + esc(l.entity) + "/" + esc(owner) + "/" + esc(field)
}

func schemaKey(bank, entity string) string { return "schema/" + esc(bank) + "/" + esc(entity) }

func countPrefix(bank, entity string) string { return "count/" + esc(bank) + "/" + esc(entity) + "/" }

func countKey(bank, entity, owner string) string { return countPrefix(bank, entity) + esc(owner) }

// rec names one stored record.
type rec struct{ bank, entity, owner, id string }

func (r rec) path() string {
	return esc(r.bank) + "/" + esc(r.entity) + "/" + esc(r.owner) + "/" + esc(r.id)
}

// linkPrefix starts the keys of every back-link to target.
func linkPrefix(target rec) string { return target.path() + "\x00" }

// linkKey is the back-link saying that field of referrer points at target.
func linkKey(target, referrer rec, field string) string {
	return linkPrefix(target) + referrer.path() + "/" + esc(field)
}

// parseLink splits a back-link key.
func parseLink(key string) (target, referrer rec, field string, err error) {
	t, r, ok := strings.Cut(key, "\x00")
	if !ok {
		return rec{}, rec{}, "", fmt.Errorf("records: malformed back-link %q", key)
	}
	tp, rp := strings.Split(t, "/"), strings.Split(r, "/")
	if len(tp) != 4 || len(rp) != 5 {
		return rec{}, rec{}, "", fmt.Errorf("records: malformed back-link %q", key)
	}
	var parts [9]string
	for i, p := range append(tp, rp...) {
		if parts[i], err = unesc(p); err != nil {
			return rec{}, rec{}, "", fmt.Errorf("records: malformed back-link %q: %w", key, err)
		}
	}
	return rec{parts[0], parts[1], parts[2], parts[3]}, rec{parts[4], parts[5], parts[6], parts[7]}, parts[8], nil
}
