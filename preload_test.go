package dynapi_test

import (
	"testing"

	"github.com/dynapi/dynapi"
	"github.com/dynapi/dynapi/internal/enginetest"
)

// demoFigures is what the demo bank shows: whether it exists, each
// account's balance and how many transactions each has.
type demoFigures struct {
	bank                 int
	current, savings     string
	currentTx, savingsTx int
}

func readDemo(t *testing.T, e *enginetest.Engine) demoFigures {
	t.Helper()
	admin := e.Admin()
	f := demoFigures{bank: admin.Get(t, "/banks/demo-bank").Status}
	for _, a := range []struct {
		id      string
		balance *string
		txs     *int
	}{{"current-1", &f.current, &f.currentTx}, {"savings-1", &f.savings, &f.savingsTx}} {
		r := admin.Get(t, "/banks/demo-bank/accounts/"+a.id)
		if r.Status != 200 {
			continue
		}
		*a.balance, _ = r.JSON(t)["balance"].(map[string]any)["amount"].(string)
		txs := admin.Get(t, "/banks/demo-bank/accounts/"+a.id+"/transactions")
		if list, ok := txs.JSON(t)["transactions"].([]any); ok {
			*a.txs = len(list)
		}
	}
	return f
}

// TestDemoBankPreloadedOnce: the first start opens the demo bank with its
// two accounts and one payment between them; a restart neither adds nor
// repeats any of it.
func TestDemoBankPreloadedOnce(t *testing.T) {
	preload := enginetest.Configure(func(c *dynapi.Config) { c.PreloadExample = true })
	want := demoFigures{bank: 200, current: "2350.00", savings: "10150.00", currentTx: 2, savingsTx: 2}
	e := enginetest.New(t, preload)
	if got := readDemo(t, e); got != want {
		t.Fatalf("after the first start: %+v, want %+v", got, want)
	}
	e.Close(t)
	e = enginetest.New(t, preload, enginetest.InDir(e.Dir))
	if got := readDemo(t, e); got != want {
		t.Fatalf("after a restart: %+v, want %+v", got, want)
	}
}
