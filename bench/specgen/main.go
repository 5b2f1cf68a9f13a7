// Command specgen writes a synthetic bank API document (see
// internal/specgen) to standard output, for bench/memory.sh's load-time
// figure.
//
//	go run ./bench/specgen -resources 100 > large.json
package main

import (
	"flag"
	"os"

	"github.com/dynapi/dynapi/internal/specgen"
)

func main() {
	resources := flag.Int("resources", 100, "resources in the document; each has three operations")
	flag.Parse()
	if _, err := os.Stdout.Write(specgen.Large(*resources)); err != nil {
		os.Exit(1)
	}
}
