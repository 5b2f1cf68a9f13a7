// Package jwtbearer accepts JWTs issued by an external identity provider
// (an OAuth 2.0 / OpenID Connect server such as Keycloak), as the Open Bank
// Project's OAuth2 login does.
//
// A request carries "Authorization: Bearer <jwt>". A token whose iss is not
// the configured provider is left to the next authenticator; one of the
// provider's must be signed with an asymmetric algorithm by a key of the
// provider's JWK Set, be within exp, nbf and iat (with a small leeway) and
// name the configured audience. Its sub, username and email are mapped to a
// user with Users.ExternalUser, which creates the user on first sight.
//
// The JWK Set is read from a file, or fetched from the provider's URL with
// github.com/MicahParks/keyfunc and jwkset: kept in memory, fetched again in
// the background until the context given to New ends or Close (which waits
// for the fetch under way), and at most once a minute when a token names a
// kid the set lacks (the provider rotated).
package jwtbearer
