package jwtbearer

// RefreshStopped is closed once the background refresh of the JWK Set has
// returned.
func (a *Authenticator) RefreshStopped() <-chan struct{} { return a.refreshed }
