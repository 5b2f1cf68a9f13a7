//go:build !unix

package rest

import "net"

// closedOrBusy cannot look at a connection without reading where there is
// no MSG_PEEK: it trusts it, and a stale connection fails the request.
func closedOrBusy(net.Conn) bool { return false }
