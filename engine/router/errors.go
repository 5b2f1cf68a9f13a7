package router

import "fmt"

// TemplateError reports a route whose path template cannot be served. It is
// returned by Build so a submitted document can be refused with a reason the
// author can act on.
type TemplateError struct {
	Method   string
	Template string
	Owner    string
	Reason   string // e.g. "unbalanced braces in segment \"{id\""
}

// Error names the route and its owner, so the message stands on its own in a
// response body or a log line.
func (e *TemplateError) Error() string {
	return fmt.Sprintf("invalid route template: %s %s (document %q): %s", e.Method, e.Template, e.Owner, e.Reason)
}

// MethodError reports a route whose method the table cannot serve: only the
// eight OpenAPI operation methods, in upper case, are accepted, which keeps
// method dispatch a fixed-size array and the Allow lists precomputable.
type MethodError struct {
	Method   string
	Template string
	Owner    string
}

// Error names the route and its owner.
func (e *MethodError) Error() string {
	return fmt.Sprintf("invalid route method: %q %s (document %q): want one of DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT, TRACE",
		e.Method, e.Template, e.Owner)
}

// ConflictError reports two routes that no request could tell apart: the same
// method and the same template once parameter names are ignored. Template and
// Owner are the route Build was adding; OtherTemplate and OtherOwner the one
// already in the table (earlier in the input), so the caller can blame the
// newcomer.
type ConflictError struct {
	Method        string
	Template      string
	Owner         string
	OtherTemplate string
	OtherOwner    string
}

// Error names both routes and both owners, since either may be the one to fix.
func (e *ConflictError) Error() string {
	return fmt.Sprintf("route conflict: %s %s (document %q) and %s %s (document %q)",
		e.Method, e.Template, e.Owner, e.Method, e.OtherTemplate, e.OtherOwner)
}
