package connector_test

import (
	"context"
	"os"
	"testing"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/connector"
	"github.com/dynapi/dynapi/plugins/mock"
	"github.com/dynapi/dynapi/specs"
)

// BenchmarkOperationHosts answers one dynamic operation from obp_mock two
// ways: as its document's host (the unrouted path) and through a method
// routing from another host; the ratio is what a routing to an
// OperationConnector costs.
func BenchmarkOperationHosts(b *testing.B) {
	ctx := context.Background()
	source, err := os.ReadFile("testdata/pets.yaml")
	if err != nil {
		b.Fatal(err)
	}
	doc, err := specs.Load(source, "application/yaml", specs.Options{})
	if err != nil {
		b.Fatal(err)
	}
	op := doc.Operations[0]
	d, err := connector.New(connector.Options{Store: openStore(b), Connectors: withHost(b, &connector.Registry{})})
	if err != nil {
		b.Fatal(err)
	}
	if err := d.Open(ctx, served{op.ID}); err != nil {
		b.Fatal(err)
	}
	hosted, err := d.OperationInvoker(mock.Host, doc, op)
	if err != nil {
		b.Fatal(err)
	}
	other, err := d.OperationInvoker("host", doc, op)
	if err != nil {
		b.Fatal(err)
	}
	run := func(inv engine.Invoker) func(b *testing.B) {
		return func(b *testing.B) {
			call := &engine.Call{OperationID: op.ID}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := inv.Invoke(ctx, call); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.Run("host", run(hosted))
	if _, err := d.CreateRouting(ctx, connector.Routing{MethodName: op.ID, ConnectorName: mock.Host, BankIDPattern: "*"}, nil); err != nil {
		b.Fatal(err)
	}
	b.Run("routed", run(other))
}
