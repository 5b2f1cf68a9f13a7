//go:build pprof

package main

import (
	"net/http"
	_ "net/http/pprof" // registers the profiling handlers on http.DefaultServeMux
	"os"
	"runtime"
)

// A binary built with -tags pprof serves Go's profiles (net/http/pprof)
// on DYNAPI_PPROF_ADDR, a loopback address, for profiling under load;
// DYNAPI_PPROF_FINE samples heap allocations every 4 KiB instead of
// every 512 KiB. Release builds have none of it.
func init() {
	if os.Getenv("DYNAPI_PPROF_FINE") != "" {
		runtime.MemProfileRate = 4096
	}
	if addr := os.Getenv("DYNAPI_PPROF_ADDR"); addr != "" {
		go func() { _ = http.ListenAndServe(addr, nil) }()
	}
}
