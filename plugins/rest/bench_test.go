package rest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/dynapi/dynapi/engine/connector"
)

// BenchmarkBuiltinRead calls an idempotent built-in method (getAccounts)
// against a loopback back end: outbound message, placeholders, headers,
// breaker and decoding of the inbound message.
func BenchmarkBuiltinRead(b *testing.B) {
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, okEnvelope)
	}))
	defer be.Close()
	c, _ := newConnector(b, Options{})
	inv := prepare(b, c, getAccounts, connector.Params{"url": be.URL + "/banks/{bankId}/accounts", "header.X-Api-Key": "k"})
	req := builtinRequest(getAccounts, "gh.29.uk", "gh.29.uk", "u-1")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := inv.Invoke(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuiltinReadSigned is BenchmarkBuiltinRead with the signed
// context header, one caller calling again and again.
func BenchmarkBuiltinReadSigned(b *testing.B) {
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, okEnvelope)
	}))
	defer be.Close()
	c, _ := newConnector(b, Options{Signer: newIssuer(b)})
	inv := prepare(b, c, getAccounts, connector.Params{"url": be.URL + "/banks/{bankId}/accounts"})
	req := builtinRequest(getAccounts, "gh.29.uk", "gh.29.uk", "u-1")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := inv.Invoke(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}
