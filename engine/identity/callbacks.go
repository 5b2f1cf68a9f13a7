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
)

// Bounds on a consumer's callback URLs.
const (
	MaxCallbackURLs      = 10
	MaxCallbackURLLength = 512
)

// URLChecker checks a URL that will receive the engine's requests when it
// is registered (HTTPS, public addresses unless allow-listed; the events
// service's checker is one): nil when it may be used, else an error naming
// the fault at pointer.
type URLChecker interface {
	CheckURL(ctx context.Context, raw, pointer string) error
}

// SetConsumerCallbackURLs replaces the callback URLs of the consumer with
// id, which a.UserID created: anyone else gets the 404 of an unknown
// consumer. Each is an absolute URL of at most MaxCallbackURLLength bytes
// without user information or fragment, distinct, at most
// MaxCallbackURLs, that check accepts; every fault is named in a 400 and
// nothing changes. Audit-logged as "consumer.callback_urls".
func (s *Service) SetConsumerCallbackURLs(ctx context.Context, a audit.Actor, id string, urls []string, check URLChecker) (*Consumer, error) {
	faults := urlListFaults(urls, "/callback_urls", "callback URL", MaxCallbackURLs, callbackURLFault)
	if faults == nil {
		for i, u := range urls {
			err := check.CheckURL(ctx, u, fmt.Sprintf("/callback_urls/%d", i))
			var refused *engine.Error
			switch {
			case errors.As(err, &refused) && refused.Status < http.StatusInternalServerError:
				faults = append(faults, refused.Violations...)
			case err != nil:
				return nil, err
			}
		}
	}
	if faults != nil {
		return nil, engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed, "the callback URLs cannot be set", faults...)
	}
	return s.changeOwnConsumer(ctx, a, id, func(rec *consumerRecord) (string, map[string]any) {
		rec.CallbackURLs = slices.Clone(urls)
		return "consumer.callback_urls", map[string]any{"callback_urls": urls}
	})
}

// callbackURLFault says what is wrong with one callback URL, "" if
// nothing; its scheme and address are the URL checker's to judge.
func callbackURLFault(raw string) string {
	_, msg := absoluteURLFault(raw, "a callback URL", MaxCallbackURLLength)
	return msg
}

// HasCallbackURL tells whether u is exactly one of c's callback URLs.
func (c *Consumer) HasCallbackURL(u string) bool { return slices.Contains(c.CallbackURLs, u) }

// HasCallbackHost tells whether u has the scheme, host and port of one of
// c's callback URLs (a default port written or not), as a Berlin Group
// TPP-Notification-URI must.
func (c *Consumer) HasCallbackHost(u string) bool {
	want := origin(u)
	return want != "" && slices.ContainsFunc(c.CallbackURLs, func(cb string) bool { return origin(cb) == want })
}

// origin is u's scheme, host and port in lower case, the port written
// even when it is the scheme's default; "" when u is not an absolute
// http or https URL.
func origin(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return ""
	}
	scheme, port := strings.ToLower(p.Scheme), p.Port()
	switch {
	case port != "":
	case scheme == "https":
		port = "443"
	case scheme == "http":
		port = "80"
	default:
		return ""
	}
	return scheme + "://" + strings.ToLower(p.Hostname()) + ":" + port
}

// NotificationHosts decides whether a consumer may have notifications
// pushed to a URI it names in a request (Berlin Group
// TPP-Notification-URI): the URI has the scheme, host and port of one of
// its callback URLs (HasCallbackHost) and URLs accepts it.
type NotificationHosts struct {
	Consumers *Service
	URLs      URLChecker
}

// AcceptNotification tells whether consumerID may have notifications
// pushed to uri.
func (n NotificationHosts) AcceptNotification(ctx context.Context, consumerID, uri string) bool {
	c, err := n.Consumers.Consumer(ctx, consumerID)
	return err == nil && c.HasCallbackHost(uri) && n.URLs.CheckURL(ctx, uri, "") == nil
}
