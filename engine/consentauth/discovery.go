package consentauth

import "github.com/dynapi/dynapi/engine/identity"

// Discovery is the OpenID Provider metadata (OpenID Connect Discovery
// 1.0, RFC 8414) of the server at base (scheme and host): exactly what
// is enabled. Pushed requests are required of par_pkce clients only, as
// dynapi_require_pushed_authorization_requests_for says.
func (s *Service) Discovery(base string) map[string]any {
	return map[string]any{
		"issuer":                                           s.o.Issuer,
		"authorization_endpoint":                           base + "/oauth2/authorize",
		"token_endpoint":                                   base + "/oauth2/token",
		"pushed_authorization_request_endpoint":            base + "/oauth2/par",
		"require_pushed_authorization_requests":            false,
		"dynapi_require_pushed_authorization_requests_for": []string{identity.PolicyPARPKCE},
		"jwks_uri":                                         base + "/.well-known/jwks.json",
		"revocation_endpoint":                              base + "/oauth2/revoke",
		"response_types_supported":                         []string{ResponseCode, ResponseCodeIDToken},
		"response_modes_supported":                         []string{"query", "fragment"},
		"grant_types_supported":                            []string{GrantAuthorizationCode, GrantRefreshToken, grantClientCredentials},
		"code_challenge_methods_supported":                 []string{"S256"},
		"token_endpoint_auth_methods_supported":            []string{"client_secret_basic", "client_secret_post"},
		"revocation_endpoint_auth_methods_supported":       []string{"client_secret_basic", "client_secret_post"},
		"scopes_supported":                                 Scopes,
		"claims_supported":                                 []string{"sub", "openbanking_intent_id", "acr", "auth_time", "nonce", "c_hash", "s_hash"},
		"claims_parameter_supported":                       true,
		"request_parameter_supported":                      true,
		"request_object_signing_alg_values_supported":      s.requestAlgs(true),
		"request_uri_parameter_supported":                  true,
		"subject_types_supported":                          []string{"public"},
		"acr_values_supported":                             []string{ACR},
		"id_token_signing_alg_values_supported":            []string{"ES256"},
		"authorization_response_iss_parameter_supported":   true,
	}
}
