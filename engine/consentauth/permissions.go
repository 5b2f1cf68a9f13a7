package consentauth

import (
	"net/url"

	"github.com/dynapi/dynapi/engine/consent"
)

// describe is each permission with its plain-language text, as the
// consent's profile describes it (its code when the profile does not), the
// same words the customer's dashboard shows.
func describe(p *consent.Profile, codes []string) []Permission {
	out := make([]Permission, len(codes))
	for i, c := range codes {
		text := c
		if p != nil {
			text = p.Describe(c)
		}
		out[i] = Permission{Code: c, Text: text}
	}
	return out
}

// origin is the scheme and host of a URL ("" if it has none).
func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
