package enginetest

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"testing"
	"time"
)

// BrowserClient is an HTTP client that keeps cookies and stops at
// redirects: a browser on the engine's pages, seen step by step.
func BrowserClient(t testing.TB) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// Fetch sends req with client and returns the answer's body, headers and
// status, failing the test when it cannot.
func Fetch(t testing.TB, client *http.Client, req *http.Request) (page string, header http.Header, status int) {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body), resp.Header, resp.StatusCode
}
