package records

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dynapi/dynapi/engine/storetest"
	"github.com/dynapi/dynapi/plugins/boltstore"
)

// crashEnv names the database file when the test binary runs as the crash
// child; the child loop runs only when it is set.
const crashEnv = "RECORDS_CRASH_CHILD_DB"

const (
	crashRounds     = 5
	crashKillAfter  = 40                   // acknowledged writes per round before the kill
	crashJitter     = 5 * time.Millisecond // then kill within this random delay
	crashRoundLimit = 5 * time.Second
	crashChildLimit = 15 * time.Second
	crashWriters    = 4
)

// TestCrashChild is not a test: it is the child process of TestCrash. It
// creates customers and offers referencing them, and replaces offers,
// with production durability, from crashWriters goroutines at once,
// printing "ok <entity> <id>" after each acknowledged Create.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("child process of TestCrash")
	}
	die := func(err error) {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	db, err := boltstore.Open(path, boltstore.Options{Timeout: 5 * time.Second})
	if err != nil {
		die(err)
	}
	s := New(db, Options{})
	ctx := t.Context()
	cust, offer := customerSchema("b1"), offerSchema("b1")
	var customers, offers []string
	for _, x := range []struct {
		sc   *Schema
		into *[]string
	}{{cust, &customers}, {offer, &offers}} {
		if err := s.Each(ctx, x.sc, "", func(m map[string]any) error {
			*x.into = append(*x.into, m[x.sc.PrimaryKey].(string))
			return nil
		}); err != nil {
			die(err)
		}
	}
	// crashWriters goroutines write at once, so their Updates share commits.
	var (
		mu sync.Mutex // customers, offers and stdout
		wg sync.WaitGroup
	)
	pick := func(r *rand.Rand, ids *[]string) string {
		mu.Lock()
		defer mu.Unlock()
		return (*ids)[r.IntN(len(*ids))]
	}
	ack := func(ids *[]string, entity, id string) {
		mu.Lock()
		defer mu.Unlock()
		*ids = append(*ids, id)
		fmt.Printf("ok %s %s\n", entity, id)
	}
	deadline := time.Now().Add(crashChildLimit)
	for w := range crashWriters {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(w)))
			for i := w; time.Now().Before(deadline); i += crashWriters {
				mu.Lock()
				noCustomers, haveOffers := len(customers) == 0, len(offers) > 0
				mu.Unlock()
				switch {
				case noCustomers || i%8 == 0:
					m, err := s.Create(ctx, cust, "", "", map[string]any{"name": fmt.Sprint("c", i), "age": i % 90})
					if err != nil {
						die(err)
					}
					ack(&customers, "Customer", m.Record["customer_id"].(string))
				case haveOffers && i%5 == 0:
					if _, err := s.Replace(ctx, offer, "", pick(r, &offers), map[string]any{"name": strings.Repeat("r", i%300),
						"amount": float64(i) / 4, "customer_id": pick(r, &customers)}, nil); err != nil {
						die(err)
					}
				default:
					m, err := s.Create(ctx, offer, "", "", map[string]any{"name": fmt.Sprint("o", i), "amount": -float64(i),
						"start": "2024-01-02", "active": i%2 == 0, "customer_id": pick(r, &customers)})
					if err != nil {
						die(err)
					}
					ack(&offers, "LoanOffer", m.Record["loan_offer_id"].(string))
				}
			}
		})
	}
	wg.Wait()
	os.Exit(0)
}

// TestCrash kills a child process with SIGKILL while it writes records,
// several times on the same file, and checks after each kill that every
// record the child was told is stored is there and that the indexes,
// back-links and counts agree with the records.
func TestCrash(t *testing.T) {
	if os.Getenv(crashEnv) != "" {
		t.Skip("in the child process")
	}
	if testing.Short() {
		t.Skip("spawns processes")
	}
	path := filepath.Join(t.TempDir(), "records.db")
	acked := map[string][]string{}
	for round := range crashRounds {
		crashRound(t, path, round, acked)
		crashVerify(t, path, acked)
		if t.Failed() {
			return
		}
	}
}

// crashRound runs the child until it acknowledged crashKillAfter records,
// kills it within crashJitter, and adds what it acknowledged to acked.
func crashRound(t *testing.T, path string, round int, acked map[string][]string) {
	t.Helper()
	n := storetest.KillChild(t, storetest.Crash{Child: "TestCrashChild", Env: crashEnv + "=" + path,
		After: crashKillAfter, Limit: crashRoundLimit, Jitter: crashJitter, Timeout: time.Minute}, func(line string) bool {
		f := strings.Fields(line)
		if len(f) != 3 || f[0] != "ok" {
			return false
		}
		acked[f[1]] = append(acked[f[1]], f[2])
		return true
	})
	t.Logf("round %d: killed after %d acknowledged creates", round, n)
}

// crashVerify reopens the file and checks every acknowledged record and
// the consistency of everything stored.
func crashVerify(t *testing.T, path string, acked map[string][]string) {
	t.Helper()
	db, err := boltstore.Open(path, boltstore.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer db.Close()
	s := New(db, Options{})
	for _, sc := range []*Schema{customerSchema("b1"), offerSchema("b1")} {
		for _, id := range acked[sc.Entity] {
			if _, err := getRecord(s, t.Context(), sc, "", id); err != nil {
				t.Errorf("acknowledged %s %s: %v", sc.Entity, id, err)
			}
		}
		n, err := s.Count(t.Context(), sc, "")
		if err != nil || n < len(acked[sc.Entity]) {
			t.Errorf("%s: Count = %d, %v; %d acknowledged", sc.Entity, n, err, len(acked[sc.Entity]))
		}
		if err := s.Check(t.Context(), sc); err != nil {
			t.Errorf("Check %s after kill: %v", sc.Entity, err)
		}
	}
}
