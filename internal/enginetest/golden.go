package enginetest

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// update rewrites golden files from what the engine answers now:
// go test . -run Golden -args -update
var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// Golden fails the test unless got equals the file at path (under
// testdata), showing the first differing line; with -update it writes got
// there first.
func Golden(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the answer differs from %s (run with -update to accept it):\n%s", path, firstDifference(got, want))
	}
}

// firstDifference shows the lines around where got and want first differ.
func firstDifference(got, want []byte) string {
	g, w := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
	for i := 0; i < len(g) || i < len(w); i++ {
		if i >= len(g) || i >= len(w) || !bytes.Equal(g[i], w[i]) {
			line := func(l [][]byte) string {
				if i < len(l) {
					return string(l[i])
				}
				return "(end)"
			}
			return "line " + strconv.Itoa(i+1) + ":\n got:  " + line(g) + "\n want: " + line(w)
		}
	}
	return "(none)"
}
