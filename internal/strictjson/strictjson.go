// Package strictjson decodes JSON text into the values the engine and its
// JSON Schema validator work with (map[string]any, []any, string,
// json.Number, bool and nil), refusing what encoding/json lets through but
// an API for banks must not accept:
//
//   - duplicate object keys (encoding/json keeps the last one silently, so
//     two readers of the same body can see two different requests);
//   - invalid UTF-8 and lone UTF-16 surrogate escapes (encoding/json
//     replaces them with U+FFFD, changing what was signed or hashed);
//   - numbers math/big cannot hold or takes long to read: an exponent
//     beyond Limits.MaxExponent or a literal longer than
//     Limits.MaxNumberLength (jsonschema compares numbers as big.Rat, and
//     big.Rat gives up on exponents past a million);
//   - nesting deeper than Limits.MaxDepth, and anything after the value.
//
// Every refusal is an *Error naming the byte offset, the JSON pointer of
// the value at fault and a stable code. Decoding is one pass over the input
// with no reflection; it is faster than encoding/json's Decoder with
// UseNumber and allocates less.
package strictjson

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/dynapi/dynapi/internal/jsonptr"
)

// Codes of Error, stable: clients and tests match on them.
const (
	CodeMalformed     = "malformed"      // not JSON
	CodeDuplicateKey  = "duplicate_key"  // an object names a key twice
	CodeInvalidUTF8   = "invalid_utf8"   // a string holds bytes that are not UTF-8
	CodeLoneSurrogate = "lone_surrogate" // a \uD800-\uDFFF escape without its pair
	CodeNumberRange   = "number_range"   // a number too long or with too large an exponent
	CodeTooDeep       = "too_deep"       // nesting beyond MaxDepth
)

// Limits bound what Decode accepts. Zero fields take the defaults.
type Limits struct {
	// MaxDepth bounds the nesting of arrays and objects (default 512).
	MaxDepth int
	// MaxNumberLength bounds the characters of one number literal
	// (default 100): more digits than any amount or identifier needs, few
	// enough that converting it to big.Rat stays cheap.
	MaxNumberLength int
	// MaxExponent bounds the absolute value of a number's exponent
	// (default 1000; float64 ends near 1e308).
	MaxExponent int
}

// Defaults of Limits.
const (
	DefaultMaxDepth        = 512
	DefaultMaxNumberLength = 100
	DefaultMaxExponent     = 1000
)

// Error is why a document was refused.
type Error struct {
	// Offset is the byte offset in the input where the fault was found.
	Offset int
	// Pointer is the JSON pointer (RFC 6901) of the value at fault: the
	// member whose key appears twice, the string with bad text, the
	// number out of range; "" for the whole document.
	Pointer string
	// Code is one of the Code constants.
	Code string
	// Message says what is wrong, without echoing more than a few bytes
	// of the input.
	Message string
}

// Error implements error.
func (e *Error) Error() string {
	at := e.Pointer
	if at == "" {
		at = "the document"
	}
	return fmt.Sprintf("%s at %s (offset %d)", e.Message, at, e.Offset)
}

// Decode decodes one JSON document with the default limits.
func Decode(data []byte) (any, error) { return Limits{}.Decode(data) }

// Decode decodes one JSON document: exactly one value, optionally
// surrounded by whitespace.
func (l Limits) Decode(data []byte) (any, error) {
	d := decoder{data: data, limits: l.withDefaults()}
	d.skipSpace()
	if d.pos >= len(d.data) {
		return nil, d.fail(CodeMalformed, "the document is empty")
	}
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	d.skipSpace()
	if d.pos < len(d.data) {
		return nil, d.fail(CodeMalformed, "unexpected data after the JSON value")
	}
	return v, nil
}

// CheckNumber applies the number limits to a number literal that is known
// to be in JSON syntax (a query parameter read as a number, say). It
// returns nil or an *Error with code CodeNumberRange and no pointer.
func (l Limits) CheckNumber(literal string) error {
	l = l.withDefaults()
	if msg := l.numberFault(literal); msg != "" {
		return &Error{Code: CodeNumberRange, Message: msg}
	}
	return nil
}

// CheckNumber applies the default number limits; see Limits.CheckNumber.
func CheckNumber(literal string) error { return Limits{}.CheckNumber(literal) }

func (l Limits) withDefaults() Limits {
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxNumberLength <= 0 {
		l.MaxNumberLength = DefaultMaxNumberLength
	}
	if l.MaxExponent <= 0 {
		l.MaxExponent = DefaultMaxExponent
	}
	return l
}

// numberFault returns why a syntactically valid number literal is out of
// range, or "".
func (l Limits) numberFault(lit string) string {
	if len(lit) > l.MaxNumberLength {
		return fmt.Sprintf("a number of %d characters is longer than the %d accepted", len(lit), l.MaxNumberLength)
	}
	i := strings.IndexAny(lit, "eE")
	if i < 0 {
		return ""
	}
	exp := lit[i+1:]
	exp = strings.TrimLeft(strings.TrimLeft(exp, "+-"), "0")
	// Fewer digits than the bound has can never exceed it.
	if len(exp) < len(strconv.Itoa(l.MaxExponent)) {
		return ""
	}
	if n, err := strconv.Atoi(exp); err == nil && n <= l.MaxExponent {
		return ""
	}
	return fmt.Sprintf("number %s has an exponent beyond ±%d", clip(lit), l.MaxExponent)
}

// decoder is the state of one Decode.
type decoder struct {
	data   []byte
	pos    int
	limits Limits
	// path holds, per open container, the key or index being decoded, so
	// an error can name its pointer; it is read only on failure.
	path []frame
}

// frame is one step of the current pointer: an object's key, or an
// array's index.
type frame struct {
	key    string
	index  int
	object bool
}

func (d *decoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// value decodes the value starting at d.pos (after whitespace).
func (d *decoder) value(depth int) (any, error) {
	if d.pos >= len(d.data) {
		return nil, d.fail(CodeMalformed, "unexpected end of input")
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		return d.object(depth + 1)
	case c == '[':
		return d.array(depth + 1)
	case c == '"':
		return d.string()
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	default:
		return nil, d.unexpected()
	}
}

func (d *decoder) literal(word string) error {
	if len(d.data)-d.pos < len(word) || string(d.data[d.pos:d.pos+len(word)]) != word {
		return d.unexpected()
	}
	d.pos += len(word)
	return nil
}

func (d *decoder) object(depth int) (any, error) {
	if depth > d.limits.MaxDepth {
		return nil, d.fail(CodeTooDeep, fmt.Sprintf("objects and arrays nest deeper than %d levels", d.limits.MaxDepth))
	}
	d.pos++ // {
	m := map[string]any{}
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		return m, nil
	}
	top := len(d.path)
	for {
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			if d.pos >= len(d.data) {
				return nil, d.fail(CodeMalformed, "unexpected end of input in an object")
			}
			return nil, d.unexpected()
		}
		keyAt := d.pos
		key, err := d.string()
		if err != nil {
			return nil, err
		}
		if _, dup := m[key]; dup {
			d.pos = keyAt
			d.path = append(d.path, frame{key: key, object: true})
			return nil, d.fail(CodeDuplicateKey, fmt.Sprintf("the key %s appears twice in one object", strconv.Quote(clip(key))))
		}
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return nil, d.expected("':' after an object key")
		}
		d.pos++
		d.skipSpace()
		d.path = append(d.path, frame{key: key, object: true})
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		d.path = d.path[:top]
		m[key] = v
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, d.fail(CodeMalformed, "unexpected end of input in an object")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
			d.skipSpace()
		case '}':
			d.pos++
			return m, nil
		default:
			return nil, d.expected("',' or '}' in an object")
		}
	}
}

func (d *decoder) array(depth int) (any, error) {
	if depth > d.limits.MaxDepth {
		return nil, d.fail(CodeTooDeep, fmt.Sprintf("objects and arrays nest deeper than %d levels", d.limits.MaxDepth))
	}
	d.pos++ // [
	out := []any{}
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		return out, nil
	}
	top := len(d.path)
	for {
		d.path = append(d.path, frame{index: len(out)})
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		d.path = d.path[:top]
		out = append(out, v)
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, d.fail(CodeMalformed, "unexpected end of input in an array")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
			d.skipSpace()
		case ']':
			d.pos++
			return out, nil
		default:
			return nil, d.expected("',' or ']' in an array")
		}
	}
}

// string decodes the string starting at d.pos (at its quote).
func (d *decoder) string() (string, error) {
	start := d.pos + 1
	i := start
	ascii := true
	// Fast path: no escapes.
	for i < len(d.data) {
		c := d.data[i]
		if c == '"' {
			raw := d.data[start:i]
			if !ascii && !utf8.Valid(raw) {
				d.pos = start + invalidUTF8At(raw)
				return "", d.fail(CodeInvalidUTF8, "a string holds bytes that are not UTF-8")
			}
			d.pos = i + 1
			return string(raw), nil
		}
		if c == '\\' {
			return d.escapedString(start, i)
		}
		if c < 0x20 {
			d.pos = i
			return "", d.fail(CodeMalformed, "a control character must be escaped in a string")
		}
		if c >= utf8.RuneSelf {
			ascii = false
		}
		i++
	}
	d.pos = i
	return "", d.fail(CodeMalformed, "unexpected end of input in a string")
}

// escapedString decodes a string with escapes; text before from has no
// escape.
func (d *decoder) escapedString(start, from int) (string, error) {
	if !utf8.Valid(d.data[start:from]) {
		d.pos = start + invalidUTF8At(d.data[start:from])
		return "", d.fail(CodeInvalidUTF8, "a string holds bytes that are not UTF-8")
	}
	buf := make([]byte, 0, from-start+16)
	buf = append(buf, d.data[start:from]...)
	i := from
	for i < len(d.data) {
		c := d.data[i]
		switch {
		case c == '"':
			d.pos = i + 1
			return string(buf), nil
		case c == '\\':
			if i+1 >= len(d.data) {
				d.pos = i
				return "", d.fail(CodeMalformed, "unexpected end of input in a string")
			}
			switch e := d.data[i+1]; e {
			case '"', '\\', '/':
				buf = append(buf, e)
				i += 2
			case 'b':
				buf, i = append(buf, '\b'), i+2
			case 'f':
				buf, i = append(buf, '\f'), i+2
			case 'n':
				buf, i = append(buf, '\n'), i+2
			case 'r':
				buf, i = append(buf, '\r'), i+2
			case 't':
				buf, i = append(buf, '\t'), i+2
			case 'u':
				r, n, err := d.unicodeEscape(i)
				if err != nil {
					return "", err
				}
				buf = utf8.AppendRune(buf, r)
				i += n
			default:
				d.pos = i
				return "", d.fail(CodeMalformed, fmt.Sprintf("invalid escape \\%s in a string", printable(e)))
			}
		case c < 0x20:
			d.pos = i
			return "", d.fail(CodeMalformed, "a control character must be escaped in a string")
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			i++
		default:
			r, size := utf8.DecodeRune(d.data[i:])
			if r == utf8.RuneError && size == 1 {
				d.pos = i
				return "", d.fail(CodeInvalidUTF8, "a string holds bytes that are not UTF-8")
			}
			buf = append(buf, d.data[i:i+size]...)
			i += size
		}
	}
	d.pos = i
	return "", d.fail(CodeMalformed, "unexpected end of input in a string")
}

// unicodeEscape reads \uXXXX at i, with its low surrogate when it is a
// high one; it returns the rune and the bytes consumed.
func (d *decoder) unicodeEscape(i int) (rune, int, error) {
	r, ok := hex4(d.data, i+2)
	if !ok {
		d.pos = i
		return 0, 0, d.fail(CodeMalformed, "invalid \\u escape in a string")
	}
	if !utf16.IsSurrogate(r) {
		return r, 6, nil
	}
	if r < 0xDC00 && i+12 <= len(d.data) && d.data[i+6] == '\\' && d.data[i+7] == 'u' {
		if low, ok := hex4(d.data, i+8); ok && low >= 0xDC00 && low <= 0xDFFF {
			return utf16.DecodeRune(r, low), 12, nil
		}
	}
	d.pos = i
	return 0, 0, d.fail(CodeLoneSurrogate, fmt.Sprintf("the escape \\u%04X is half of a UTF-16 surrogate pair without its other half", r))
}

func hex4(b []byte, at int) (rune, bool) {
	if at+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[at : at+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// number decodes the number at d.pos as a json.Number, checking its
// grammar and the limits.
func (d *decoder) number() (any, error) {
	start := d.pos
	i := d.pos
	if d.data[i] == '-' {
		i++
	}
	switch {
	case i < len(d.data) && d.data[i] == '0':
		i++
	case i < len(d.data) && d.data[i] >= '1' && d.data[i] <= '9':
		i = digits(d.data, i)
	default:
		d.pos = i
		return nil, d.expected("a digit in a number")
	}
	if i < len(d.data) && d.data[i] == '.' {
		i++
		j := digits(d.data, i)
		if j == i {
			d.pos = i
			return nil, d.expected("a digit after the decimal point")
		}
		i = j
	}
	if i < len(d.data) && (d.data[i] == 'e' || d.data[i] == 'E') {
		i++
		if i < len(d.data) && (d.data[i] == '+' || d.data[i] == '-') {
			i++
		}
		j := digits(d.data, i)
		if j == i {
			d.pos = i
			return nil, d.expected("a digit in the exponent")
		}
		i = j
	}
	lit := string(d.data[start:i])
	if msg := d.limits.numberFault(lit); msg != "" {
		d.pos = start
		return nil, d.fail(CodeNumberRange, msg)
	}
	d.pos = i
	return json.Number(lit), nil
}

func digits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

// fail returns an Error at d.pos for the value being decoded.
func (d *decoder) fail(code, msg string) *Error {
	return &Error{Offset: d.pos, Pointer: d.pointer(), Code: code, Message: msg}
}

func (d *decoder) unexpected() *Error {
	if d.pos >= len(d.data) {
		return d.fail(CodeMalformed, "unexpected end of input")
	}
	return d.fail(CodeMalformed, fmt.Sprintf("unexpected character %s", printable(d.data[d.pos])))
}

func (d *decoder) expected(what string) *Error {
	if d.pos >= len(d.data) {
		return d.fail(CodeMalformed, "unexpected end of input, expected "+what)
	}
	return d.fail(CodeMalformed, fmt.Sprintf("unexpected character %s, expected %s", printable(d.data[d.pos]), what))
}

// pointer renders the path of the value being decoded.
func (d *decoder) pointer() string {
	var b strings.Builder
	for _, f := range d.path {
		b.WriteByte('/')
		if f.object {
			b.WriteString(jsonptr.Escape(f.key))
		} else {
			b.WriteString(strconv.Itoa(f.index))
		}
	}
	return b.String()
}

// invalidUTF8At returns the offset of the first byte of b that is not
// part of valid UTF-8.
func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return len(b)
}

// printable quotes one input byte for a message.
func printable(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return strconv.QuoteRune(rune(c))
	}
	return fmt.Sprintf("0x%02X", c)
}

// clip shortens text quoted in messages.
func clip(s string) string {
	const max = 40
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}
