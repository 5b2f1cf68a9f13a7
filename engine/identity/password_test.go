package identity

import (
	"runtime"
	"strings"
	"testing"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/internal/kvjson"
)

// storedHash reads a user's stored password hash.
func (e *env) storedHash(id string) string {
	e.t.Helper()
	var rec *userRecord
	err := e.store.View(e.ctx(), func(tx engine.Tx) error {
		var err error
		rec, err = userTx(tx, id)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return rec.PasswordHash
}

// setStoredHash overwrites a user's stored password hash, as a hash made
// by an older version would be.
func (e *env) setStoredHash(id, hash string) {
	e.t.Helper()
	err := e.store.Update(e.ctx(), func(tx engine.Tx) error {
		rec, err := userTx(tx, id)
		if err != nil {
			return err
		}
		rec.PasswordHash = hash
		return kvjson.Put(tx, bucketUsers, id, rec)
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// TestNewHashesNothing: starting a service computes no hash, whatever the
// cost; the unknown-user stand-in has the service's parameters, so a login
// for a user who does not exist costs one hash at that cost.
func TestNewHashesNothing(t *testing.T) {
	const costly = 256 * 1024 // KiB: a hash at New would allocate 256 MiB
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	e := newEnv(t, func(o *Options) {
		o.PasswordHashing = PasswordHashing{MemoryKiB: costly, Iterations: 1, Parallelism: 1}
	})
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 64<<20 {
		t.Errorf("New allocated %d MiB: it hashed something", n>>20)
	}
	p, _, _, err := parseHash(e.s.dummy)
	if err != nil || p != e.s.hash {
		t.Errorf("the stand-in hash %q has parameters %+v (%v), want the service's %+v", e.s.dummy, p, err, e.s.hash)
	}
	if e.s.verifies.Load() != 0 {
		t.Errorf("%d verifications at New", e.s.verifies.Load())
	}
}

// TestStaleHashRehashedAtLogin: a hash stored under other parameters
// verifies, and the first good login stores a new one under the service's;
// a wrong password changes nothing.
func TestStaleHashRehashedAtLogin(t *testing.T) {
	older := argonParams{Memory: 128, Time: 3, Threads: 2, KeyLen: 32}
	cases := []struct {
		name     string
		password string
		wantOK   bool
		rehashed bool
	}{
		{"wrong password keeps the old hash", "not the password", false, false},
		{"right password rehashes", goodPassword, true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			u := e.user("stale")
			old, err := hashPassword(older, goodPassword)
			if err != nil {
				t.Fatal(err)
			}
			e.setStoredHash(u.ID, old)
			_, err = e.s.CheckPassword(e.ctx(), "stale", tc.password, "192.0.2.1")
			if ok := err == nil; ok != tc.wantOK {
				t.Fatalf("login ok=%v (%v), want %v", ok, err, tc.wantOK)
			}
			now := e.storedHash(u.ID)
			p, _, _, err := parseHash(now)
			if err != nil {
				t.Fatalf("stored hash %q: %v", now, err)
			}
			if rehashed := now != old; rehashed != tc.rehashed {
				t.Fatalf("rehashed=%v, want %v (stored %s)", rehashed, tc.rehashed, now)
			}
			if tc.rehashed && (p != e.s.hash || !verifyPassword(now, goodPassword)) {
				t.Fatalf("the new hash %s has %+v, want %+v and the same password", now, p, e.s.hash)
			}
			// Either way the right password still logs in, and a current
			// hash is not rehashed again.
			if _, err := e.s.CheckPassword(e.ctx(), "stale", goodPassword, "192.0.2.1"); err != nil {
				t.Fatalf("login after: %v", err)
			}
			current := e.storedHash(u.ID)
			if _, err := e.s.CheckPassword(e.ctx(), "stale", goodPassword, "192.0.2.1"); err != nil {
				t.Fatal(err)
			}
			if again := e.storedHash(u.ID); again != current {
				t.Error("a current hash was rehashed")
			}
		})
	}
}

func TestPasswordHashingCost(t *testing.T) {
	cases := []struct {
		name string
		cost PasswordHashing
		want argonParams
		err  string
	}{
		{"zero is the default", PasswordHashing{}, argonParams{Memory: 19456, Time: 2, Threads: 1, KeyLen: 32}, ""},
		{"cheap for tests", PasswordHashing{MemoryKiB: 64, Iterations: 1, Parallelism: 1}, argonParams{Memory: 64, Time: 1, Threads: 1, KeyLen: 32}, ""},
		{"no passes", PasswordHashing{MemoryKiB: 64, Parallelism: 1}, argonParams{}, "out of range"},
		{"no lanes", PasswordHashing{MemoryKiB: 64, Iterations: 1}, argonParams{}, "out of range"},
		{"memory below 8 KiB a lane", PasswordHashing{MemoryKiB: 15, Iterations: 1, Parallelism: 2}, argonParams{}, "out of range"},
		{"memory above 1 GiB", PasswordHashing{MemoryKiB: 1<<20 + 1, Iterations: 1, Parallelism: 1}, argonParams{}, "out of range"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.cost.params()
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				opts := newEnv(t).opts
				opts.PasswordHashing = tc.cost
				if _, err := New(t.Context(), opts); err == nil {
					t.Fatal("New accepted the cost")
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v (%v), want %+v", got, err, tc.want)
			}
		})
	}
}

// TestHashSlots: the hashes running at once fit the memory budget, one at
// least, and no more than there are CPUs.
func TestHashSlots(t *testing.T) {
	cases := []struct {
		memory uint32 // KiB
		procs  int
		want   int
	}{
		{19 * 1024, 16, 3},
		{19 * 1024, 2, 2},
		{64 * 1024, 16, 1},
		{512 * 1024, 16, 1},
		{64, 1, 1},
		{64, 8, 8},
	}
	for _, tc := range cases {
		if got := hashSlots(argonParams{Memory: tc.memory}, tc.procs); got != tc.want {
			t.Errorf("hashSlots(m=%d, procs=%d) = %d, want %d", tc.memory, tc.procs, got, tc.want)
		}
	}
}
