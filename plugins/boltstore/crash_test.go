package boltstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/storetest"
)

// crashEnv names the database file when the test binary runs as the crash
// child; the child loop runs only when it is set.
const crashEnv = "BOLTSTORE_CRASH_CHILD_DB"

const (
	crashRounds     = 8                    // kill, reopen and continue this many times
	crashKillAfter  = 50                   // commits reported per round before the kill
	crashJitter     = 5 * time.Millisecond // then kill within this random delay
	crashRoundLimit = 3 * time.Second      // kill anyway after this long
	crashChildLimit = 10 * time.Second
	crashChildMaxTx = 100000 // per writer
	crashWriters    = 8
	crashFailEvery  = 5
)

// crashRecord is the payload of transaction i: its size varies so that
// commits allocate, split and free pages.
func crashRecord(i int) []byte {
	unit := []byte(fmt.Sprintf("%08d|", i))
	return bytes.Repeat(unit, 10+(i*37)%90)
}

func crashKeys(i int) (record, index string) {
	return fmt.Sprintf("rec/%08d", i), fmt.Sprintf("by-n/%08d", i)
}

// TestCrashChild is not a test: it is the child process of TestCrash.
// crashWriters goroutines write concurrently, so commits are shared. Each
// transaction takes the next number i of the records sequence and writes
// record i, its index entry and the counter meta/last; the child prints
// "committed i" once Update returned nil. Every crashFailEvery-th
// transaction of a writer also writes junk, then fails: its writes,
// sequence step included, must vanish from the shared commit.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("child process of TestCrash")
	}
	die := func(err error) {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	s, err := Open(path, Options{Timeout: 5 * time.Second})
	if err != nil {
		die(err)
	}
	deadline := time.Now().Add(crashChildLimit)
	var out sync.Mutex
	var wg sync.WaitGroup
	for w := range crashWriters {
		wg.Go(func() {
			for n := 0; n < crashChildMaxTx && time.Now().Before(deadline); n++ {
				fail := n%crashFailEvery == w%crashFailEvery
				var i int
				err := s.Update(t.Context(), func(tx engine.Tx) error {
					seq, err := tx.NextSequence("records")
					if err != nil {
						return err
					}
					i = int(seq)
					rec, idx := crashKeys(i)
					if fail {
						rec = "junk/" + rec
					}
					if err := tx.Put("records", rec, crashRecord(i)); err != nil {
						return err
					}
					if err := tx.Put("index", idx, []byte(rec)); err != nil {
						return err
					}
					if err := tx.Put("meta", "last", []byte(strconv.Itoa(i))); err != nil {
						return err
					}
					if fail {
						return errCrashFail
					}
					return nil
				})
				switch {
				case fail && errors.Is(err, errCrashFail):
				case err != nil || fail:
					die(fmt.Errorf("transaction %d (fail %v): %v", i, fail, err))
				default:
					out.Lock()
					fmt.Fprintf(os.Stdout, "committed %d\n", i)
					out.Unlock()
				}
			}
		})
	}
	wg.Wait()
	os.Exit(0)
}

// errCrashFail is the error of the child's failing transactions.
var errCrashFail = errors.New("fails on purpose")

// crashLast returns meta/last, 0 if absent.
func crashLast(s *Store) (int, error) {
	last := 0
	err := s.View(context.Background(), func(tx engine.Tx) error {
		v, err := tx.Get("meta", "last")
		if errors.Is(err, engine.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		last, err = strconv.Atoi(string(v))
		return err
	})
	return last, err
}

// TestCrash kills a child process with SIGKILL while it commits
// transactions, then checks the file: every transaction is there entirely
// or not at all, and every one the child reported committed is there. It
// does so several times on the same file, the child continuing each time
// from what survived.
//
// SIGKILL stops the process, not the machine: writes already handed to the
// kernel survive, so this checks atomicity at every point of a commit, not
// fsync ordering against power loss (bbolt's own tests cover that).
func TestCrash(t *testing.T) {
	if os.Getenv(crashEnv) != "" {
		t.Skip("in the child process")
	}
	if testing.Short() {
		t.Skip("spawns processes")
	}
	path := filepath.Join(t.TempDir(), "data", "dynapi.db")
	reported := 0
	for round := range crashRounds {
		reported = crashRound(t, path, round, reported)
		crashVerify(t, path, reported)
		if t.Failed() {
			return
		}
	}
}

// crashRound runs the child until it has reported crashKillAfter more
// commits (or crashRoundLimit passed), kills it within a random delay of up
// to crashJitter, and returns the highest transaction it reported committed.
func crashRound(t *testing.T, path string, round, reported int) int {
	t.Helper()
	storetest.KillChild(t, storetest.Crash{Child: "TestCrashChild", Env: crashEnv + "=" + path,
		After: crashKillAfter, Limit: crashRoundLimit, Jitter: crashJitter, Timeout: 30 * time.Second}, func(line string) bool {
		n, ok := strings.CutPrefix(line, "committed ")
		if !ok {
			return false
		}
		i, err := strconv.Atoi(n)
		if err != nil {
			return false
		}
		reported = max(reported, i)
		return true
	})
	t.Logf("round %d: killed after commit %d", round, reported)
	return reported
}

// crashVerify reopens the file and checks it holds exactly transactions
// 1..last for some last >= reported, none of the failed ones' writes, and
// no gap: failed transactions gave their sequence numbers back.
func crashVerify(t *testing.T, path string, reported int) {
	t.Helper()
	s, err := Open(path, Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer s.Close()

	var structural []error
	if err := s.db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			structural = append(structural, err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, err := range structural {
		t.Errorf("bbolt check: %v", err)
	}

	last, err := crashLast(s)
	if err != nil {
		t.Fatal(err)
	}
	if last < reported {
		t.Fatalf("meta/last = %d; child reported %d committed before the kill", last, reported)
	}
	err = s.Update(context.Background(), func(tx engine.Tx) error {
		for i := 1; i <= last; i++ {
			rec, idx := crashKeys(i)
			v, err := tx.Get("records", rec)
			if err != nil || !bytes.Equal(v, crashRecord(i)) {
				t.Errorf("transaction %d (<= last %d): record = %d bytes, %v", i, last, len(v), err)
			}
			v, err = tx.Get("index", idx)
			if err != nil || string(v) != rec {
				t.Errorf("transaction %d (<= last %d): index = %q, %v", i, last, v, err)
			}
		}
		for _, bucket := range []string{"records", "index"} {
			n := 0
			if err := tx.Scan(bucket, "", func(string, []byte) error { n++; return nil }); err != nil {
				return err
			}
			if n != last {
				t.Errorf("bucket %s holds %d keys; want exactly %d (a transaction after meta/last is partly present)", bucket, n, last)
			}
		}
		// The counter rolled back with the lost transaction too. Checked
		// in a transaction that is rolled back, to leave the file as found.
		seq, err := tx.NextSequence("records")
		if err != nil {
			return err
		}
		if seq != uint64(last)+1 {
			t.Errorf("NextSequence = %d; want %d", seq, last+1)
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatal(err)
	}
}

var errRollback = errors.New("rollback")
