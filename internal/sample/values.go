package sample

import (
	"encoding/base64"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dynapi/dynapi/internal/regexgen"
)

func runeLen(s string) int { return utf8.RuneCountInString(s) }

// genString synthesises a string for n: from its format, else its pattern,
// else "string" fitted to the length limits. ok is false when the result
// does not satisfy n.
func genString(n *node, variant int) (string, bool) {
	minL, maxL := n.minLen, n.maxLen
	fits := func(s string) bool {
		l := runeLen(s)
		if l < minL || maxL >= 0 && l > maxL {
			return false
		}
		for _, p := range n.patterns {
			if !regexgen.Matches(p, s) {
				return false
			}
		}
		return true
	}
	if n.format != "" {
		for _, c := range formatValues(n.format, variant, minL, maxL) {
			if fits(c) {
				return c, true
			}
		}
	}
	formatOK := func(s string) bool { return n.format == "" || validFormat(n.format, s) }
	if variant == 0 && len(n.patterns) > 0 {
		// Familiar banking values read better than "AAA" where the pattern
		// accepts them as a whole.
		for _, c := range familiar {
			if fits(c) && formatOK(c) && fullMatch(n.patterns[0], c) {
				return c, true
			}
		}
	}
	if len(n.patterns) > 0 {
		// With several patterns, try a few variants of each.
		tries := 1
		if len(n.patterns) > 1 {
			tries = 8
		}
		for _, p := range n.patterns {
			for v := variant; v < variant+tries; v++ {
				if s, ok := regexgen.Variant(p, minL, maxL, v); ok && fits(s) {
					return s, formatOK(s)
				}
			}
		}
		if len(n.patterns) > 1 {
			// Several patterns: join short matches, as in "^[A-Z]" + "[0-9]$".
			for _, p := range n.patterns {
				for _, q := range n.patterns {
					a, ok1 := regexgen.Variant(p, 0, -1, variant)
					b, ok2 := regexgen.Variant(q, 0, -1, variant)
					if !ok1 || !ok2 || p == q {
						continue
					}
					c := a + b
					if k := minL - runeLen(c); k > 0 {
						c = a + strings.Repeat("a", k) + b
					}
					if fits(c) {
						return c, formatOK(c)
					}
				}
			}
		}
		if s, ok := regexgen.Variant(n.patterns[0], minL, maxL, variant); ok {
			return s, false
		}
		return plainString(minL, maxL, variant), false
	}
	s := plainString(minL, maxL, variant)
	return s, fits(s) && formatOK(s)
}

// plainString is "string" (with the variant number appended when non-zero)
// padded or cut to the length limits.
func plainString(minL, maxL, variant int) string {
	suffix := ""
	if variant > 0 {
		suffix = strconv.Itoa(variant)
	}
	target := max(minL, 6+len(suffix))
	if maxL >= 0 && target > maxL {
		target = maxL
	}
	if len(suffix) > target {
		// Too short for the number: spell the variant in letters.
		b := make([]byte, target)
		v := variant
		for i := target - 1; i >= 0; i-- {
			b[i] = byte('a' + v%26)
			v /= 26
		}
		return string(b)
	}
	body := target - len(suffix)
	return strings.Repeat("string", body/6+1)[:body] + suffix
}

// familiar are values tried first against patterns: a currency, a country,
// a BIC, an IBAN.
var familiar = []string{"EUR", "GB", "DEUTDEFF", "GB33BUKB20201555555555"}

// fullMatch reports whether pattern matches all of s (not just part of it).
func fullMatch(pattern, s string) bool {
	return regexgen.Matches(pattern, s) && regexgen.Matches("^(?:"+pattern+")$", s)
}

var sampleDate = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

var ibans = []string{
	"GB33BUKB20201555555555",
	"DE89370400440532013000",
	"FR1420041010050500013M02606",
	"NL91ABNA0417164300",
	"GB82WEST12345698765432",
	"ES9121000418450200051332",
}

// formatValues lists candidate values for a string format, the plain one
// first, then ones stretched towards the length limits.
func formatValues(format string, variant, minL, maxL int) []string {
	v := variant
	var out []string
	pad := func(prefix, suffix string) {
		if k := minL - runeLen(prefix) - runeLen(suffix); k > 0 {
			out = append(out, prefix+strings.Repeat("a", k)+suffix)
		}
	}
	switch format {
	case "date-time":
		out = append(out, sampleDate.AddDate(0, 0, v).Format(time.RFC3339))
		out = append(out, sampleDate.AddDate(0, 0, v).Format("2006-01-02T15:04:05.000Z07:00"))
	case "date":
		out = append(out, sampleDate.AddDate(0, 0, v).Format("2006-01-02"))
	case "time":
		out = append(out, sampleDate.Add(time.Duration(v)*time.Second).Format("15:04:05Z07:00"))
	case "email", "idn-email":
		local := "user"
		if v > 0 {
			local += strconv.Itoa(v)
		}
		out = append(out, local+"@example.com")
		pad(local, "@example.com")
		out = append(out, fmt.Sprintf("u%d@ex.io", v))
	case "uuid":
		out = append(out, fmt.Sprintf("3fa85f64-5717-4562-b3fc-%012x", 0x2c963f66afa6+v))
	case "uri", "url", "iri":
		base := "https://example.com"
		if v > 0 {
			base += "/" + strconv.Itoa(v)
		}
		out = append(out, base)
		pad(base+"/", "")
		out = append(out, fmt.Sprintf("urn:x%d", v))
	case "uri-reference", "iri-reference":
		out = append(out, fmt.Sprintf("/resource/%d", v))
		pad("/", "")
	case "uri-template":
		out = append(out, fmt.Sprintf("https://example.com/%d/{id}", v))
	case "hostname", "idn-hostname":
		host := "example.com"
		if v > 0 {
			host = fmt.Sprintf("host%d.example.com", v)
		}
		out = append(out, host)
		pad("", ".example.com")
	case "ipv4":
		out = append(out, fmt.Sprintf("192.0.2.%d", 1+v%254))
	case "ipv6":
		out = append(out, fmt.Sprintf("2001:db8::%x", 1+v))
	case "byte", "base64":
		raw := "string"
		if v > 0 {
			raw += strconv.Itoa(v)
		}
		out = append(out, base64.StdEncoding.EncodeToString([]byte(raw)))
		if minL > 0 {
			n := (minL + 3) / 4 * 3
			out = append(out, base64.StdEncoding.EncodeToString([]byte(strings.Repeat("s", n))))
		}
	case "binary", "password":
		s := format
		if format == "binary" {
			s = "string"
		}
		if v > 0 {
			s += strconv.Itoa(v)
		}
		out = append(out, s)
	case "duration":
		out = append(out, fmt.Sprintf("P%dD", 1+v))
	case "json-pointer":
		out = append(out, fmt.Sprintf("/path/%d", v))
	case "relative-json-pointer":
		out = append(out, strconv.Itoa(v))
	case "regex":
		out = append(out, fmt.Sprintf("^a{%d}$", v))
	case "semver":
		out = append(out, fmt.Sprintf("1.0.%d", v))
	case "iban":
		out = append(out, ibans[v%len(ibans)])
	case "bic", "swift", "bicfi":
		out = append(out, []string{"DEUTDEFF", "NWBKGB2L", "BNPAFRPP"}[v%3])
	case "currency", "iso-4217":
		out = append(out, []string{"EUR", "GBP", "USD"}[v%3])
	case "country", "iso-3166", "iso-3166-1":
		out = append(out, []string{"GB", "DE", "FR"}[v%3])
	}
	return out
}

// genNumber picks a number inside n's bounds on n's multipleOf grid, as
// close to 0 as allowed; ok is false if the bounds leave no such number.
func genNumber(n *node, integer bool, variant int) (any, bool) {
	lo, loEx := n.lower()
	hi, hiEx := n.upper()
	clamp := func(minV, maxV int64) {
		cmin, cmax := ratInt(minV), ratInt(maxV)
		if hi != nil && hi.Cmp(cmin) < 0 || lo != nil && lo.Cmp(cmax) > 0 {
			return // conflicting declaration: leave the bounds alone
		}
		if lo == nil || lo.Cmp(cmin) < 0 {
			lo, loEx = cmin, false
		}
		if hi == nil || hi.Cmp(cmax) > 0 {
			hi, hiEx = cmax, false
		}
	}
	switch n.format {
	case "int32":
		clamp(math.MinInt32, math.MaxInt32)
	case "int64":
		clamp(math.MinInt64, math.MaxInt64)
	}
	above := func(x *big.Rat) bool {
		if lo == nil {
			return true
		}
		c := x.Cmp(lo)
		return c > 0 || c == 0 && !loEx
	}
	below := func(x *big.Rat) bool {
		if hi == nil {
			return true
		}
		c := x.Cmp(hi)
		return c < 0 || c == 0 && !hiEx
	}
	in := func(x *big.Rat) bool { return above(x) && below(x) }
	add := func(a, b *big.Rat) *big.Rat { return new(big.Rat).Add(a, b) }
	mul := func(a *big.Rat, k int64) *big.Rat { return new(big.Rat).Mul(a, ratInt(k)) }
	var step *big.Rat
	if integer {
		step = ratInt(1)
		if n.multipleOf != nil {
			step = ratLCM(n.multipleOf, ratInt(1))
		}
	} else if n.multipleOf != nil {
		step = n.multipleOf
	}

	out := func(x *big.Rat) (any, bool) {
		ok := in(x) && isMultiple(x, step)
		if integer {
			return integerValue(x), ok
		}
		return numberValue(x), ok
	}

	zero := new(big.Rat)
	var base *big.Rat
	if step != nil {
		switch {
		case in(zero):
			base = zero
		case !above(zero):
			base = new(big.Rat).Mul(new(big.Rat).SetInt(ceilRat(new(big.Rat).Quo(lo, step))), step)
			if !above(base) {
				base = add(base, step)
			}
		default:
			base = new(big.Rat).Mul(new(big.Rat).SetInt(floorRat(new(big.Rat).Quo(hi, step))), step)
			if !below(base) {
				base = new(big.Rat).Sub(base, step)
			}
		}
		if variant > 0 {
			if x := add(base, mul(step, int64(variant))); in(x) {
				return out(x)
			}
			if x := add(base, mul(step, -int64(variant))); in(x) {
				return out(x)
			}
		}
		return out(base)
	}

	half := big.NewRat(1, 2)
	mid := func(a, b *big.Rat) *big.Rat { return new(big.Rat).Mul(add(a, b), half) }
	switch {
	case in(zero):
		base = zero
	case !above(zero):
		if !loEx {
			base = lo
		} else if c := add(new(big.Rat).SetInt(floorRat(lo)), ratInt(1)); below(c) {
			base = c
		} else {
			base = mid(lo, hi)
		}
	default:
		if !hiEx {
			base = hi
		} else if c := new(big.Rat).Sub(new(big.Rat).SetInt(ceilRat(hi)), ratInt(1)); above(c) {
			base = c
		} else {
			base = mid(lo, hi)
		}
	}
	if variant > 0 {
		if x := add(base, ratInt(int64(variant))); in(x) {
			return out(x)
		}
		if x := add(base, ratInt(-int64(variant))); in(x) {
			return out(x)
		}
		if hi != nil {
			x := base
			for range min(variant, 40) {
				x = mid(x, hi)
			}
			if in(x) {
				return out(x)
			}
		}
	}
	return out(base)
}

// jsonEqual compares decoded JSON values, numbers by value.
func jsonEqual(a, b any) bool {
	if isNumber(a) && isNumber(b) {
		x, ok1 := toRat(a)
		y, ok2 := toRat(b)
		return ok1 && ok2 && x.Cmp(y) == 0
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !jsonEqual(xv, yv) {
				return false
			}
		}
		return true
	}
	return false
}
