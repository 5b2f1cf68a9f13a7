package events

import "context"

// CheckURL checks a receiver's URL as Subscribe does (Options.URLs), for
// URLs registered elsewhere: a consumer's callback URLs.
func (s *Service) CheckURL(ctx context.Context, raw, pointer string) error {
	return s.urls.CheckURL(ctx, raw, pointer)
}
