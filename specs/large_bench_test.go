package specs_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dynapi/dynapi/internal/specgen"
	"github.com/dynapi/dynapi/specs"
)

// BenchmarkLoadLarge loads a synthetic 2.5 MB document of 300 operations
// (internal/specgen), the size of the largest documents operators submit.
// cpu-ms/op is the process's CPU time per load, which a machine shared
// with other work changes less than ns/op.
func BenchmarkLoadLarge(b *testing.B) {
	data := specgen.Large(100)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	start := cpuTime(b)
	for b.Loop() {
		doc, err := specs.Load(data, "application/json", specs.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if len(doc.Operations) != 300 {
			b.Fatalf("%d operations, want 300", len(doc.Operations))
		}
	}
	b.ReportMetric(float64((cpuTime(b)-start).Milliseconds())/float64(b.N), "cpu-ms/op")
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime(b *testing.B) time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		b.Fatal(err)
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

// BenchmarkLoadSharedSpecs loads every root document of ../shared/specs
// and reports the heap the loaded documents keep (live-MiB, after a
// collection), the figure bench/memory.sh reads from outside as RSS.
func BenchmarkLoadSharedSpecs(b *testing.B) {
	var sources [][]byte
	var types []string
	err := filepath.WalkDir(sharedSpecs, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(path, ".json") || strings.HasSuffix(path, ".yaml")) ||
			strings.Contains(path, "petstore-swagger2-separate") {
			return err
		}
		data, err := os.ReadFile(path)
		sources = append(sources, data)
		types = append(types, map[bool]string{true: "application/yaml", false: "application/json"}[strings.HasSuffix(path, ".yaml")])
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	if len(sources) != 23 {
		b.Fatalf("%d documents under %s, want 23", len(sources), sharedSpecs)
	}
	var live uint64
	for b.Loop() {
		docs := make([]*specs.Document, len(sources))
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for i, src := range sources {
			if docs[i], err = specs.Load(src, types[i], specs.Options{}); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		live = after.HeapAlloc - before.HeapAlloc
		runtime.KeepAlive(docs)
	}
	b.ReportMetric(float64(live)/(1<<20), "live-MiB")
}
