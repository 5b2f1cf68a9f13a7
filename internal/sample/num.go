package sample

import (
	"encoding/json"
	"math"
	"math/big"
	"strconv"
)

// toRat converts a decoded JSON number to an exact rational, reading floats
// through their shortest decimal form (so 0.1 is 1/10, as validators see it).
func toRat(v any) (*big.Rat, bool) {
	r := new(big.Rat)
	switch n := v.(type) {
	case float64:
		if math.IsNaN(n) || math.IsInf(n, 0) {
			return nil, false
		}
		_, ok := r.SetString(strconv.FormatFloat(n, 'g', -1, 64))
		return r, ok
	case float32:
		f := float64(n)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, false
		}
		_, ok := r.SetString(strconv.FormatFloat(f, 'g', -1, 32))
		return r, ok
	case int:
		return r.SetInt64(int64(n)), true
	case int8:
		return r.SetInt64(int64(n)), true
	case int16:
		return r.SetInt64(int64(n)), true
	case int32:
		return r.SetInt64(int64(n)), true
	case int64:
		return r.SetInt64(n), true
	case uint:
		return r.SetInt(new(big.Int).SetUint64(uint64(n))), true
	case uint8:
		return r.SetInt64(int64(n)), true
	case uint16:
		return r.SetInt64(int64(n)), true
	case uint32:
		return r.SetInt64(int64(n)), true
	case uint64:
		return r.SetInt(new(big.Int).SetUint64(n)), true
	case json.Number:
		_, ok := r.SetString(string(n))
		return r, ok
	}
	return nil, false
}

func isNumber(v any) bool {
	switch v.(type) {
	case float64, float32, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, json.Number:
		return true
	}
	return false
}

func toInt(v any) (int, bool) {
	r, ok := toRat(v)
	if !ok || !r.IsInt() || !r.Num().IsInt64() {
		return 0, false
	}
	n := r.Num().Int64()
	if n > math.MaxInt32 {
		n = math.MaxInt32
	}
	if n < math.MinInt32 {
		n = math.MinInt32
	}
	return int(n), true
}

// integerValue renders an integral rational as int64, or as a json.Number
// when it does not fit.
func integerValue(r *big.Rat) any {
	if r.IsInt() && r.Num().IsInt64() {
		return r.Num().Int64()
	}
	if r.IsInt() {
		return json.Number(r.Num().String())
	}
	return json.Number(decimalString(r))
}

// numberValue renders r as a float64 when the float's shortest form is
// exactly r, else as an exact json.Number.
func numberValue(r *big.Rat) any {
	f, _ := r.Float64()
	if !math.IsInf(f, 0) {
		if back, ok := new(big.Rat).SetString(strconv.FormatFloat(f, 'g', -1, 64)); ok && back.Cmp(r) == 0 {
			return f
		}
	}
	return json.Number(decimalString(r))
}

// decimalString renders r in decimal notation (exactly when r's denominator
// has only the prime factors 2 and 5).
func decimalString(r *big.Rat) string {
	if r.IsInt() {
		return r.Num().String()
	}
	d := new(big.Int).Set(r.Denom())
	two, five := big.NewInt(2), big.NewInt(5)
	a, b := 0, 0
	m := new(big.Int)
	for {
		if m.Mod(d, two).Sign() != 0 {
			break
		}
		d.Quo(d, two)
		a++
	}
	for {
		if m.Mod(d, five).Sign() != 0 {
			break
		}
		d.Quo(d, five)
		b++
	}
	digits := max(a, b)
	if d.Cmp(big.NewInt(1)) != 0 {
		digits = 30
	}
	return r.FloatString(digits)
}

// ratLCM is the least common multiple of two positive rationals.
func ratLCM(a, b *big.Rat) *big.Rat {
	// lcm(p/q, r/s) = lcm(p, r) / gcd(q, s)
	num := lcmInt(a.Num(), b.Num())
	den := new(big.Int).GCD(nil, nil, a.Denom(), b.Denom())
	return new(big.Rat).SetFrac(num, den)
}

func lcmInt(a, b *big.Int) *big.Int {
	g := new(big.Int).GCD(nil, nil, a, b)
	if g.Sign() == 0 {
		return new(big.Int)
	}
	r := new(big.Int).Quo(new(big.Int).Abs(a), g)
	return r.Mul(r, new(big.Int).Abs(b))
}

// ceilRat and floorRat round to integers.
func floorRat(r *big.Rat) *big.Int {
	q := new(big.Int)
	m := new(big.Int)
	q.DivMod(r.Num(), r.Denom(), m) // Euclidean: m >= 0, so q = floor
	return q
}

func ceilRat(r *big.Rat) *big.Int {
	f := floorRat(r)
	if new(big.Rat).SetInt(f).Cmp(r) != 0 {
		f.Add(f, big.NewInt(1))
	}
	return f
}

func ratInt(i int64) *big.Rat { return new(big.Rat).SetInt64(i) }

func isMultiple(v, m *big.Rat) bool {
	if m == nil || m.Sign() == 0 {
		return true
	}
	return new(big.Rat).Quo(v, m).IsInt()
}
