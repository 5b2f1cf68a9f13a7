package consentauth

// Discovery is the OpenID Provider metadata (OpenID Connect Discovery
// 1.0, RFC 8414) of the server at base (scheme and host): exactly what
// is enabled.
func (s *Service) Discovery(base string) map[string]any {
	return map[string]any{
		"issuer":                                         s.o.Issuer,
		"authorization_endpoint":                         base + "/oauth2/authorize",
		"token_endpoint":                                 base + "/oauth2/token",
		"pushed_authorization_request_endpoint":          base + "/oauth2/par",
		"require_pushed_authorization_requests":          true,
		"jwks_uri":                                       base + "/.well-known/jwks.json",
		"revocation_endpoint":                            base + "/oauth2/revoke",
		"response_types_supported":                       []string{"code"},
		"response_modes_supported":                       []string{"query"},
		"grant_types_supported":                          []string{GrantAuthorizationCode, GrantRefreshToken, grantClientCredentials},
		"code_challenge_methods_supported":               []string{"S256"},
		"token_endpoint_auth_methods_supported":          []string{"client_secret_basic", "client_secret_post"},
		"revocation_endpoint_auth_methods_supported":     []string{"client_secret_basic", "client_secret_post"},
		"scopes_supported":                               Scopes,
		"claims_supported":                               []string{"sub", "openbanking_intent_id", "acr", "auth_time", "nonce"},
		"claims_parameter_supported":                     true,
		"request_parameter_supported":                    false,
		"request_uri_parameter_supported":                true,
		"subject_types_supported":                        []string{"public"},
		"acr_values_supported":                           []string{ACR},
		"id_token_signing_alg_values_supported":          []string{"ES256"},
		"authorization_response_iss_parameter_supported": true,
	}
}
