// Package testpaths finds the files tests read outside their own package:
// the module root and the shared folder beside it (../shared from the
// root), wherever the test's package sits in the tree, so moving a package
// never breaks a relative path.
package testpaths

import (
	"os"
	"path/filepath"
	"sync"
)

var root = sync.OnceValue(func() string {
	dir, err := os.Getwd()
	if err != nil {
		panic("testpaths: " + err.Error())
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			panic("testpaths: no go.mod at or above the working directory")
		}
		dir = parent
	}
})

// Root joins elem to the module root: the nearest folder at or above the
// working directory that holds go.mod.
func Root(elem ...string) string {
	return filepath.Join(append([]string{root()}, elem...)...)
}

// Shared joins elem to the shared folder beside the module root
// (../shared: the specs, bench bodies and designs the tests read).
func Shared(elem ...string) string {
	return filepath.Join(append([]string{filepath.Dir(root()), "shared"}, elem...)...)
}
