package textcut

import "testing"

func TestBytes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exact", 5, "exact"},
		{"abcdef", 3, "abc"},
		{"aé", 2, "a"}, // é is two bytes: not split
		{"日本", 4, "日"},
		{"日本", 2, ""},
		{"", 0, ""},
	} {
		if got := Bytes(tc.in, tc.n); got != tc.want {
			t.Errorf("Bytes(%q, %d) = %q; want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
