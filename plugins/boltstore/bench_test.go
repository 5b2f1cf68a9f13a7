package boltstore

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/dynapi/dynapi/engine"
)

// BenchmarkUpdate measures durable (fsynced) Updates that each write a
// 200-byte record, its index entry and a counter, from one caller and from
// 64 concurrent callers, whose Updates share commits. It reports the
// writes per commit, from the ids of the transactions the writes ran in.
func BenchmarkUpdate(b *testing.B) {
	value := make([]byte, 200)
	var first, last atomic.Int64
	write := func(tx engine.Tx, i int64) error {
		id := int64(txID(tx))
		first.CompareAndSwap(0, id)
		for l := last.Load(); id > l && !last.CompareAndSwap(l, id); l = last.Load() {
		}
		key := fmt.Sprintf("%012d", i)
		if err := tx.Put("records", key, value); err != nil {
			return err
		}
		if err := tx.Put("index", "v/"+key, nil); err != nil {
			return err
		}
		_, err := tx.NextSequence("records")
		return err
	}
	perCommit := func(b *testing.B) {
		b.ReportMetric(float64(b.N)/float64(last.Load()-first.Load()+1), "writes/commit")
		first.Store(0)
		last.Store(0)
	}
	b.Run("writers=1", func(b *testing.B) {
		defer perCommit(b)
		s := open(b, Options{})
		b.ReportAllocs()
		for i := int64(0); b.Loop(); i++ {
			if err := s.Update(b.Context(), func(tx engine.Tx) error { return write(tx, i) }); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("writers=64", func(b *testing.B) {
		defer perCommit(b)
		s := open(b, Options{})
		var n atomic.Int64
		b.ReportAllocs()
		b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := n.Add(1)
				if err := s.Update(b.Context(), func(tx engine.Tx) error { return write(tx, i) }); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
