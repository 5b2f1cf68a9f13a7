package engine_test

import (
	"os/exec"
	"strings"
	"testing"
)

// forbiddenInKernel are the module paths no package under engine/ may
// depend on, directly or through another package: the HTTP edge, the
// script engine and storage drivers belong to http/ and plugins/, which
// the composition root (the module's root package) wires together.
var forbiddenInKernel = []string{
	"github.com/gofiber/fiber",
	"github.com/valyala/fasthttp",
	"github.com/dop251/goja",
	"go.etcd.io/bbolt",
	"github.com/jackc/pgx",
	"github.com/lib/pq",
	"github.com/mattn/go-sqlite3",
	"modernc.org/sqlite",
	"github.com/dynapi/dynapi/http",
	"github.com/dynapi/dynapi/plugins",
}

// TestKernelImports: the kernel (every package under engine/) reaches no
// HTTP framework, script engine or storage driver, even transitively.
func TestKernelImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", `{{.ImportPath}}`, "github.com/dynapi/dynapi/engine/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 20 {
		t.Fatalf("go list found %d dependencies; the listing is wrong", len(deps))
	}
	for _, dep := range deps {
		for _, bad := range forbiddenInKernel {
			if dep == bad || strings.HasPrefix(dep, bad+"/") {
				why, _ := exec.Command("go", "list", "-f", `{{.ImportPath}}: {{join .Imports " "}}`, "github.com/dynapi/dynapi/engine/...").Output()
				t.Errorf("the kernel depends on %s; direct imports:\n%s", dep, importers(string(why), bad))
			}
		}
	}
}

// importers keeps the lines of a go list listing whose imports mention
// prefix, so a failure names the package to fix.
func importers(listing, prefix string) string {
	var b strings.Builder
	for line := range strings.Lines(listing) {
		if strings.Contains(line, " "+prefix) {
			b.WriteString(line)
		}
	}
	return b.String()
}
