package server

import (
	"bytes"
	"unsafe"

	"github.com/valyala/fasthttp"

	"github.com/dynapi/dynapi/engine/guard"
)

// The fields whose first line the edge's scan keeps (scannedFields), so no
// later step looks them up again: the credential fields
// (guard.CredentialFields, at their indexes), Prefer and the correlation
// id.
const (
	fieldPrefer = len(guard.CredentialFields) + iota
	fieldCorrelationID
	fieldCount
)

// scannedFieldNames names the kept fields other than the credential ones,
// from fieldPrefer on.
var scannedFieldNames = [...]string{"Prefer", HeaderCorrelationID}

// scannedFields holds the first line of each kept field.
type scannedFields [fieldCount]fieldValue

// fieldValue is the value of a header field's first line as fasthttp
// gives it (RequestHeader.Peek): empty when the field is absent. When peek
// is set the scan could not tell, for a line folded over several
// (obs-fold), which fasthttp joins: get reads it with Peek.
type fieldValue struct {
	value []byte
	peek  bool
}

// unscanned is a field no scan read: get reads it with Peek.
var unscanned = fieldValue{peek: true}

// get is the field named name's value in h, from v when the scan could
// read it. The string shares the request's memory: it is valid while the
// request is served.
func (v fieldValue) get(h *fasthttp.RequestHeader, name string) string {
	b := v.value
	if v.peek {
		b = h.Peek(name)
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// headerLines is what one pass over a request's raw header lines finds,
// for the edge's refusals (refuseAmbiguous) and the steps after it.
type headerLines struct {
	// fields are the first lines of the kept fields.
	fields scannedFields
	// credentials counts the non-empty lines of credential fields.
	credentials int
	// lengths and codings count the Content-Length and Transfer-Encoding
	// lines; chunked is whether the last Transfer-Encoding says chunked
	// alone.
	lengths, codings int
	chunked          bool
	// contentCoded is whether a Content-Encoding line names a coding
	// other than identity (gzip, deflate, br).
	contentCoded bool
}

// scanRequest reads h's header lines in one pass (scanHeader). A request
// not read from the wire (one built in memory and handed to the handler)
// has no raw lines: its fields are read with Peek and PeekAll instead.
func scanRequest(h *fasthttp.RequestHeader) headerLines {
	raw := h.RawHeaders()
	if len(raw) > 0 || h.Len() == 0 {
		return scanHeader(raw)
	}
	var l headerLines
	for i := range l.fields {
		l.fields[i] = unscanned
	}
	for _, name := range guard.CredentialFields {
		for _, v := range h.PeekAll(name) {
			if len(bytes.TrimSpace(v)) > 0 {
				l.credentials++
			}
		}
	}
	return l
}

// scanHeader reads raw, a request's header lines as fasthttp received them
// (it refuses names with blanks in or around them), in one pass. Names are
// compared in any case.
func scanHeader(raw []byte) headerLines {
	var l headerLines
	var seen [fieldCount]bool
	for len(raw) > 0 {
		line := raw
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			raw = nil
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			continue
		}
		name, rest := line[:colon], line[colon+1:]
		value := bytes.TrimSpace(rest)
		kept := keptField(name)
		if kept >= 0 && !seen[kept] {
			seen[kept] = true
			folded := len(raw) > 0 && (raw[0] == ' ' || raw[0] == '\t')
			l.fields[kept] = fieldValue{value: peekValue(rest), peek: folded}
		}
		switch {
		case kept >= 0 && kept < len(guard.CredentialFields):
			if len(value) > 0 {
				l.credentials++
			}
		case bytes.EqualFold(name, []byte(fasthttp.HeaderContentLength)):
			l.lengths++
		case bytes.EqualFold(name, []byte(fasthttp.HeaderTransferEncoding)):
			l.codings++
			l.chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte(fasthttp.HeaderContentEncoding)):
			if len(value) > 0 && !bytes.EqualFold(value, []byte("identity")) {
				l.contentCoded = true
			}
		}
	}
	return l
}

// keptField is the index in scannedFields of the field named name, or -1.
func keptField(name []byte) int {
	if i, ok := guard.CredentialField(name); ok {
		return i
	}
	for i, f := range scannedFieldNames {
		if len(name) == len(f) && bytes.EqualFold(name, []byte(f)) {
			return fieldPrefer + i
		}
	}
	return -1
}

// peekValue trims the text after a header line's colon as fasthttp does:
// leading spaces, a trailing CR, then trailing spaces (tabs stay).
func peekValue(rest []byte) []byte {
	rest = bytes.TrimLeft(rest, " ")
	rest = bytes.TrimSuffix(rest, []byte("\r"))
	return bytes.TrimRight(rest, " ")
}

// ambiguousFraming reports whether a request's body length could be read
// two ways (RFC 9112 6.3): both Transfer-Encoding and Content-Length, more
// than one of either, or a transfer coding other than chunked (which
// fasthttp would read as chunked, and a proxy otherwise).
func (l *headerLines) ambiguousFraming() bool {
	return l.lengths > 1 || l.codings > 1 || (l.codings == 1 && (l.lengths > 0 || !l.chunked))
}
