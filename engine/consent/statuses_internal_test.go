package consent

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dynapi/dynapi/internal/testpaths"
	"github.com/dynapi/dynapi/specs"
)

// TestEveryProfileStatusInItsDocument is a check held out from the
// profiles' own tests: every built-in profile fits at least one of the
// published documents in ../shared/specs, and for each document it fits,
// one enum of that document (its consent status) holds every word the
// profile renders a status with. A profile added later is checked without
// naming it here.
func TestEveryProfileStatusInItsDocument(t *testing.T) {
	t.Parallel()
	var docs []*specs.Document
	var names []string
	root := testpaths.Shared("specs")
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".json")) {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		doc, err := specs.Load(src, "", specs.Options{})
		if err != nil {
			return nil // a fragment of a document split in files
		}
		docs, names = append(docs, doc), append(names, strings.TrimPrefix(path, root))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ps := Builtin()
	for _, id := range ps.order {
		p := ps.byID[id]
		t.Run(id, func(t *testing.T) {
			words := slices.Sorted(func(yield func(string) bool) {
				for _, w := range p.Statuses {
					if !yield(w) {
						return
					}
				}
			})
			fitted := 0
			for i, doc := range docs {
				if !p.fits(doc) {
					continue
				}
				fitted++
				tree, _ := doc.Resolve("#")
				if !slices.ContainsFunc(enums(tree), func(enum []any) bool {
					return !slices.ContainsFunc(words, func(w string) bool { return !slices.Contains(enum, any(w)) })
				}) {
					t.Errorf("%s: no enum holds every status %s renders: %v", names[i], id, words)
				}
			}
			if fitted == 0 {
				t.Errorf("no published document fits %s", id)
			}
		})
	}
}

// enums are every enum in a document's tree.
func enums(node any) [][]any {
	var out [][]any
	switch n := node.(type) {
	case map[string]any:
		if e, ok := n["enum"].([]any); ok {
			out = append(out, e)
		}
		for _, v := range n {
			out = append(out, enums(v)...)
		}
	case []any:
		for _, v := range n {
			out = append(out, enums(v)...)
		}
	}
	return out
}
