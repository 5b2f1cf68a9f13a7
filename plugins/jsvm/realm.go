package jsvm

import (
	"errors"
	"math/big"
	"reflect"

	"github.com/dop251/goja"
	"github.com/dop251/goja/ast"
)

// BigInt is not available to scripts: its operators run inside single
// instructions that no builtin guard sees, and 1n << 10000000000n alone
// allocates more than a gigabyte. Code made from strings (eval, Function
// and its async and generator siblings) is refused too, since it would get
// BigInt literals past the check Compile makes.

// removeBigInt deletes BigInt and the typed arrays of BigInts.
func (sb *sandbox) removeBigInt() error {
	g := sb.vm.GlobalObject()
	return errors.Join(g.Delete("BigInt"), g.Delete("BigInt64Array"), g.Delete("BigUint64Array"))
}

// noCodeFromStrings makes eval and the Function constructors throw an
// EvalError. The constructors stay in place as proxies, so instanceof and
// their prototypes keep working.
func (sb *sandbox) noCodeFromStrings() error {
	evalError, ok := goja.AssertConstructor(sb.global("EvalError"))
	if !ok {
		return errors.New("EvalError is not a constructor")
	}
	refuse := func(what string) {
		e, err := evalError(nil, sb.vm.ToValue(what+" is not available in connector methods: code cannot be made from strings"))
		if err != nil {
			panic(err)
		}
		panic(e)
	}
	g := sb.vm.GlobalObject()
	errs := []error{sb.replace(g, "eval", func(goja.FunctionCall) goja.Value {
		refuse("eval")
		return nil
	})}
	v, err := sb.vm.RunString(`[Function.prototype, Object.getPrototypeOf(async function () {}),
		Object.getPrototypeOf(function* () {})]`)
	if err != nil {
		return err
	}
	protos := v.ToObject(sb.vm)
	for i, name := range []string{"Function", "AsyncFunction", "GeneratorFunction"} {
		proto := protos.Get(string(rune('0' + i))).ToObject(sb.vm)
		ctor, ok := proto.Get("constructor").(*goja.Object)
		if !ok {
			errs = append(errs, errors.New(name+" has no constructor"))
			continue
		}
		p := sb.vm.ToValue(sb.vm.NewProxy(ctor, &goja.ProxyTrapConfig{
			Apply: func(*goja.Object, goja.Value, []goja.Value) goja.Value {
				refuse(name)
				return nil
			},
			Construct: func(*goja.Object, []goja.Value, *goja.Object) *goja.Object {
				refuse(name)
				return nil
			},
		}))
		errs = append(errs, proto.DefineDataProperty("constructor", p, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE),
			sb.instancesOf(ctor))
		if name == "Function" {
			errs = append(errs, g.DefineDataProperty(name, p, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE))
		}
	}
	return errors.Join(errs...)
}

// bigIntLiteral returns the first BigInt literal in a parsed program, nil
// when there is none.
func bigIntLiteral(p *ast.Program) *ast.NumberLiteral {
	var found *ast.NumberLiteral
	seen := map[uintptr]bool{}
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		if found != nil || !v.IsValid() {
			return
		}
		switch v.Kind() {
		case reflect.Pointer:
			if v.IsNil() || seen[v.Pointer()] {
				return
			}
			seen[v.Pointer()] = true
			if n, ok := v.Interface().(*ast.NumberLiteral); ok {
				if _, big := n.Value.(*big.Int); big {
					found = n
				}
				return
			}
			walk(v.Elem())
		case reflect.Interface:
			walk(v.Elem())
		case reflect.Struct:
			for i := range v.NumField() {
				if v.Type().Field(i).IsExported() {
					walk(v.Field(i))
				}
			}
		case reflect.Slice:
			for i := range v.Len() {
				walk(v.Index(i))
			}
		}
	}
	walk(reflect.ValueOf(p))
	return found
}
