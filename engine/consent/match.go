package consent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/dynapi/dynapi/internal/jsonptr"
)

// maxDifferences bounds the differences a comparison names.
const maxDifferences = 50

// differences are the JSON pointers, under at, where the JSON texts want
// and got differ, canonically: object members in any order, numbers by
// their text, at most maxDifferences. A member only one side has differs
// at its own pointer; arrays of different lengths differ as a whole.
func differences(at string, want, got json.RawMessage) ([]string, error) {
	w, err := canonical(want)
	if err != nil {
		return nil, err
	}
	g, err := canonical(got)
	if err != nil {
		return nil, err
	}
	var out []string
	diff(at, w, g, &out)
	return out, nil
}

// canonical decodes JSON text, numbers kept as their text; absent (nil)
// stays nil.
func canonical(raw json.RawMessage) (any, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	return v, nil
}

func diff(at string, want, got any, out *[]string) {
	if len(*out) >= maxDifferences {
		return
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			*out = append(*out, at)
			return
		}
		keys := make([]string, 0, len(w)+len(g))
		for k := range w {
			keys = append(keys, k)
		}
		for k := range g {
			if _, dup := w[k]; !dup {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			wv, inW := w[k]
			gv, inG := g[k]
			if inW != inG {
				*out = append(*out, at+"/"+jsonptr.Escape(k))
				continue
			}
			diff(at+"/"+jsonptr.Escape(k), wv, gv, out)
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			*out = append(*out, at)
			return
		}
		for i := range w {
			diff(fmt.Sprintf("%s/%d", at, i), w[i], g[i], out)
		}
	default:
		if want != got {
			*out = append(*out, at)
		}
	}
}
