package regexgen

import (
	"strconv"
	"strings"
)

// rewriteForRE2 turns an ECMAScript/.NET pattern into an RE2 pattern that
// generates plausible candidates: lookarounds and comments are dropped,
// atomic groups become plain groups, backreferences are replaced by a copy of
// the group they refer to, \uXXXX becomes \x{XXXX} and \Z becomes \z. The
// result only proposes candidates; they are verified against the original.
//
// With consume set, positive lookarounds become ordinary (consuming) groups
// instead: "(?=.*[0-9]).{8,}" then yields a string that starts with a digit,
// and "(?<=a)b" yields "ab", which a search finds.
func rewriteForRE2(p string, consume bool) (string, bool) {
	rw := &rewriter{p: p, consume: consume, close: map[int]int{}, groups: map[int]int{}, names: map[string]int{}}
	if !rw.scan() {
		return "", false
	}
	var b strings.Builder
	if !rw.emit(&b, 0, len(p), 0) {
		return "", false
	}
	return b.String(), true
}

type rewriter struct {
	p       string
	consume bool
	close   map[int]int    // index of '(' -> index of its ')'
	groups  map[int]int    // capture number -> index of its '('
	names   map[string]int // group name -> capture number
}

const rewriteLimit = 1 << 16

// classEnd returns the index just past the character class starting at i.
func (rw *rewriter) classEnd(i int) int {
	p := rw.p
	j := i + 1
	if j < len(p) && p[j] == '^' {
		j++
	}
	if j < len(p) && p[j] == ']' {
		j++
	}
	for j < len(p) {
		switch {
		case p[j] == '\\':
			j += 2
		case p[j] == '[' && j+1 < len(p) && p[j+1] == ':':
			if k := strings.Index(p[j+2:], ":]"); k >= 0 {
				j += k + 4
			} else {
				j++
			}
		case p[j] == ']':
			return j + 1
		default:
			j++
		}
	}
	return len(p)
}

// scan matches parentheses and numbers capture groups.
func (rw *rewriter) scan() bool {
	p := rw.p
	var stack []int
	n := 0
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			i++
		case '[':
			i = rw.classEnd(i) - 1
		case '(':
			stack = append(stack, i)
			if name, ok := groupName(p[i:]); ok || !strings.HasPrefix(p[i:], "(?") {
				n++
				rw.groups[n] = i
				if name != "" {
					rw.names[name] = n
				}
			}
		case ')':
			if len(stack) == 0 {
				return false
			}
			rw.close[stack[len(stack)-1]] = i
			stack = stack[:len(stack)-1]
		}
	}
	return len(stack) == 0
}

// groupName recognises (?<name>, (?P<name> and (?'name' at the start of s.
func groupName(s string) (string, bool) {
	var rest string
	var end byte
	switch {
	case strings.HasPrefix(s, "(?P<"):
		rest, end = s[4:], '>'
	case strings.HasPrefix(s, "(?<") && len(s) > 3 && s[3] != '=' && s[3] != '!':
		rest, end = s[3:], '>'
	case strings.HasPrefix(s, "(?'"):
		rest, end = s[3:], '\''
	default:
		return "", false
	}
	k := strings.IndexByte(rest, end)
	if k <= 0 {
		return "", false
	}
	return rest[:k], true
}

func isQuantifierStart(p string, i int) bool {
	return i < len(p) && (p[i] == '*' || p[i] == '+' || p[i] == '?' || p[i] == '{')
}

// skipQuantifier returns the index past a quantifier starting at i (or i).
func skipQuantifier(p string, i int) int {
	if !isQuantifierStart(p, i) {
		return i
	}
	if p[i] == '{' {
		k := strings.IndexByte(p[i:], '}')
		if k < 0 {
			return i
		}
		i += k + 1
	} else {
		i++
	}
	if i < len(p) && (p[i] == '?' || p[i] == '+') {
		i++
	}
	return i
}

func (rw *rewriter) emit(b *strings.Builder, from, to, depth int) bool {
	p := rw.p
	if depth > 16 {
		return false
	}
	for i := from; i < to; {
		if b.Len() > rewriteLimit {
			return false
		}
		c := p[i]
		switch {
		case c == '\\':
			n, ok := rw.escape(b, i, depth, false)
			if !ok {
				return false
			}
			i = n
		case c == '[':
			end := min(rw.classEnd(i), to)
			b.WriteByte('[')
			j := i + 1
			if j < end && p[j] == '^' {
				b.WriteByte('^')
				j++
			}
			for j < end-1 {
				if p[j] == '\\' {
					n, ok := rw.escape(b, j, depth, true)
					if !ok {
						return false
					}
					j = n
					continue
				}
				b.WriteByte(p[j])
				j++
			}
			if end-1 > i && p[end-1] == ']' {
				b.WriteByte(']')
			}
			i = end
		case c == '(':
			closeAt, ok := rw.close[i]
			if !ok {
				return false
			}
			rest := p[i:closeAt]
			switch {
			case rw.consume && (strings.HasPrefix(rest, "(?=") || strings.HasPrefix(rest, "(?<=")):
				b.WriteString("(?:")
				if !rw.emit(b, i+len(rest[:strings.IndexByte(rest, '=')+1]), closeAt, depth) {
					return false
				}
			case strings.HasPrefix(rest, "(?=") || strings.HasPrefix(rest, "(?!") ||
				strings.HasPrefix(rest, "(?<=") || strings.HasPrefix(rest, "(?<!"):
				// Lookaround: drop it, with any quantifier applied to it.
				i = skipQuantifier(p, closeAt+1)
				continue
			case strings.HasPrefix(rest, "(?#"):
				i = closeAt + 1
				continue
			case strings.HasPrefix(rest, "(?>"):
				b.WriteString("(?:")
				if !rw.emit(b, i+3, closeAt, depth) {
					return false
				}
			default:
				if name, ok := groupName(rest); ok {
					b.WriteString("(?P<" + name + ">")
					if !rw.emit(b, i+namedBodyOffset(rest, name), closeAt, depth) {
						return false
					}
				} else {
					// Copy "(", "(?:", "(?i)", "(?i:" ... then the body.
					j := i + 1
					if strings.HasPrefix(rest, "(?") {
						j = i + 2
						for j < closeAt && p[j] != ':' && p[j] != ')' {
							j++
						}
						if j < closeAt && p[j] == ':' {
							j++
						}
					}
					b.WriteString(p[i:j])
					if !rw.emit(b, j, closeAt, depth) {
						return false
					}
				}
			}
			b.WriteByte(')')
			i = closeAt + 1
		default:
			b.WriteByte(c)
			i++
		}
	}
	return true
}

// namedBodyOffset is the length of the "(?<name>" style prefix of rest.
func namedBodyOffset(rest, name string) int {
	if strings.HasPrefix(rest, "(?P<") {
		return len(name) + 5
	}
	return len(name) + 4
}

// escape rewrites the escape sequence at p[i] and returns the index past it.
func (rw *rewriter) escape(b *strings.Builder, i, depth int, inClass bool) (int, bool) {
	p := rw.p
	if i+1 >= len(p) {
		b.WriteString(`\\`)
		return i + 1, true
	}
	c := p[i+1]
	switch {
	case c == 'u' && i+2 < len(p) && p[i+2] == '{':
		k := strings.IndexByte(p[i+2:], '}')
		if k < 0 {
			return 0, false
		}
		b.WriteString(`\x{` + p[i+3:i+2+k] + `}`)
		return i + 3 + k, true
	case c == 'u' && i+6 <= len(p) && isHex(p[i+2:i+6]):
		b.WriteString(`\x{` + p[i+2:i+6] + `}`)
		return i + 6, true
	case c == 'Z':
		if inClass {
			b.WriteByte('Z')
		} else {
			b.WriteString(`\z`)
		}
		return i + 2, true
	case c == 'c' && i+2 < len(p) && isASCIILetter(p[i+2]):
		b.WriteString(`\x{` + strconv.FormatInt(int64(p[i+2]%32), 16) + `}`)
		return i + 3, true
	case c == '0':
		b.WriteString(`\x{0}`)
		return i + 2, true
	case c == 'h':
		if inClass {
			b.WriteString(`\t `)
		} else {
			b.WriteString(`[\t ]`)
		}
		return i + 2, true
	case c == '/' || c == '-' && !inClass:
		b.WriteByte(c)
		return i + 2, true
	case !inClass && c >= '1' && c <= '9':
		j := i + 1
		for j < len(p) && p[j] >= '0' && p[j] <= '9' {
			j++
		}
		n, _ := strconv.Atoi(p[i+1 : j])
		return j, rw.backref(b, n, depth)
	case !inClass && c == 'k' && i+2 < len(p) && (p[i+2] == '<' || p[i+2] == '\'' || p[i+2] == '{'):
		end := map[byte]byte{'<': '>', '\'': '\'', '{': '}'}[p[i+2]]
		k := strings.IndexByte(p[i+3:], end)
		if k < 0 {
			return 0, false
		}
		n, ok := rw.names[p[i+3:i+3+k]]
		if !ok {
			return 0, false
		}
		return i + 4 + k, rw.backref(b, n, depth)
	}
	b.WriteString(p[i : i+2])
	return i + 2, true
}

// backref writes a copy of capture group n's body as a non-capturing group.
func (rw *rewriter) backref(b *strings.Builder, n, depth int) bool {
	open, ok := rw.groups[n]
	if !ok {
		return false
	}
	closeAt := rw.close[open]
	body := open + 1
	rest := rw.p[open:closeAt]
	if name, ok := groupName(rest); ok {
		body = open + namedBodyOffset(rest, name)
	}
	b.WriteString("(?:")
	if !rw.emit(b, body, closeAt, depth+1) {
		return false
	}
	b.WriteByte(')')
	return true
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func isASCIILetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
