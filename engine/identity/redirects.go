package identity

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/viewtx"
	"github.com/dynapi/dynapi/internal/kvjson"
)

// Bounds on a consumer's redirect URIs.
const (
	MaxRedirectURIs      = 10
	MaxRedirectURILength = 512
)

// ValidateRedirectURIs names every fault of a consumer's redirect URIs: at
// most MaxRedirectURIs, each at most MaxRedirectURILength bytes, distinct,
// an absolute https URL, or an http URL of localhost or 127.0.0.1 (any
// port) for development, without user information or fragment.
func ValidateRedirectURIs(uris []string) []engine.Violation {
	return urlListFaults(uris, "/redirect_uris", "redirect URI", MaxRedirectURIs, redirectURIFault)
}

// urlListFaults names every fault of a consumer's list of URLs, at
// pointer: more than max, one fault names (a noun), or one repeated.
func urlListFaults(uris []string, pointer, noun string, max int, fault func(string) string) []engine.Violation {
	var faults []engine.Violation
	if len(uris) > max {
		faults = append(faults, engine.Violation{Location: "body", Pointer: pointer, Code: "max_items",
			Message: fmt.Sprintf("a consumer has at most %d %ss", max, noun)})
	}
	for i, u := range uris {
		if msg := fault(u); msg != "" {
			faults = append(faults, engine.Violation{Location: "body", Pointer: fmt.Sprintf("%s/%d", pointer, i),
				Code: "format", Message: msg})
		} else if slices.Index(uris, u) < i {
			faults = append(faults, engine.Violation{Location: "body", Pointer: fmt.Sprintf("%s/%d", pointer, i),
				Code: "unique", Message: noun + "s are distinct"})
		}
	}
	return faults
}

// redirectURIFault says what is wrong with one redirect URI, "" if nothing.
func redirectURIFault(raw string) string {
	u, msg := absoluteURLFault(raw, "a redirect URI", MaxRedirectURILength)
	switch {
	case msg != "":
		return msg
	case u.Scheme == "https":
		return ""
	case u.Scheme == "http" && (u.Hostname() == "localhost" || u.Hostname() == "127.0.0.1"):
		return ""
	}
	return "a redirect URI is https, or http only on localhost or 127.0.0.1"
}

// absoluteURLFault parses raw, which names (a noun) must be an absolute
// URL of at most maxLen bytes without user information or fragment; the
// message says what is wrong, "" if nothing.
func absoluteURLFault(raw, names string, maxLen int) (*url.URL, string) {
	if raw == "" || len(raw) > maxLen {
		return nil, fmt.Sprintf("%s is 1 to %d bytes", names, maxLen)
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Opaque != "" || u.Host == "":
		return nil, names + " is an absolute URL"
	case strings.Contains(raw, "#"):
		return nil, names + " has no fragment"
	case u.User != nil:
		return nil, names + " has no user information"
	}
	return u, ""
}

// HasRedirectURI tells whether uri is exactly one of c's redirect URIs.
func (c *Consumer) HasRedirectURI(uri string) bool { return slices.Contains(c.RedirectURIs, uri) }

// SetConsumerRedirectURIs replaces the redirect URIs of the consumer with
// id, which a.UserID created: anyone else gets the 404 of an unknown
// consumer. Every fault of the URIs is named in a 400 and nothing
// changes. Audit-logged as "consumer.redirect_uris".
func (s *Service) SetConsumerRedirectURIs(ctx context.Context, a audit.Actor, id string, uris []string) (*Consumer, error) {
	if faults := ValidateRedirectURIs(uris); faults != nil {
		return nil, engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed, "the redirect URIs cannot be set", faults...)
	}
	return s.changeOwnConsumer(ctx, a, id, func(rec *consumerRecord) (string, map[string]any) {
		rec.RedirectURIs = slices.Clone(uris)
		return "consumer.redirect_uris", map[string]any{"redirect_uris": uris}
	})
}

// changeOwnConsumer lets change alter the consumer with id, which a.UserID
// created (anyone else gets the 404 of an unknown consumer), and stores
// it with the audit entry change names, in one transaction.
func (s *Service) changeOwnConsumer(ctx context.Context, a audit.Actor, id string,
	change func(rec *consumerRecord) (action string, details map[string]any)) (*Consumer, error) {
	var out *Consumer
	err := s.w.Update(ctx, func(tx *viewtx.Tx) error {
		rec, err := kvjson.Get[consumerRecord](tx, bucketConsumers, id)
		if errors.Is(err, engine.ErrNotFound) || err == nil && (a.UserID == "" || rec.CreatedBy != a.UserID) {
			return consumerNotFound(id)
		}
		if err != nil {
			return err
		}
		action, details := change(rec)
		if err := s.putConsumerTx(tx, rec); err != nil {
			return err
		}
		out = rec.consumer()
		return s.audit.Append(tx, a, action, rec.ID, "", details)
	})
	return out, err
}
