// Command dynapi runs the dynapi API engine.
//
//	dynapi serve [--addr 127.0.0.1:8080] [--data-dir ./data]
//	dynapi version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"

	"github.com/dynapi/dynapi/engine/instance"
	"github.com/dynapi/dynapi/engine/server"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "dynapi:", err)
		os.Exit(1)
	}
}

const usage = `dynapi: a declarative API engine for banks

Usage:
  dynapi serve [flags]   serve the management API and every dynamic endpoint
  dynapi version         print the version

Run "dynapi serve -h" for the flags.
`

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, version())
		return nil
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

func version() string {
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		return "dynapi " + info.Main.Version
	}
	return "dynapi (devel)"
}

// serve parses flags (each with an environment default) and serves until
// SIGINT or SIGTERM, then drains requests in flight.
func serve(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", env("DYNAPI_ADDR", "127.0.0.1:8080"), "listen address (env DYNAPI_ADDR)")
	dataDir := fs.String("data-dir", env("DYNAPI_DATA_DIR", "./data"), "directory of the embedded store (env DYNAPI_DATA_DIR)")
	maxBody := fs.Int("max-body-bytes", envInt("DYNAPI_MAX_BODY_BYTES", server.DefaultMaxBodyBytes), "largest request body to a dynamic operation (env DYNAPI_MAX_BODY_BYTES)")
	maxDoc := fs.Int("max-document-bytes", envInt("DYNAPI_MAX_DOCUMENT_BYTES", server.DefaultMaxDocumentBytes), "largest API document accepted (env DYNAPI_MAX_DOCUMENT_BYTES)")
	example := fs.Bool("example", env("DYNAPI_EXAMPLE", "true") == "true", "serve the example API at first start (env DYNAPI_EXAMPLE)")
	logFormat := fs.String("log-format", env("DYNAPI_LOG_FORMAT", "text"), "log format: text or json (env DYNAPI_LOG_FORMAT)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var handler slog.Handler = slog.NewTextHandler(stderr, nil)
	if *logFormat == "json" {
		handler = slog.NewJSONHandler(stderr, nil)
	}
	log := slog.New(handler)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	inst, err := instance.Open(ctx, instance.Config{
		DataDir: *dataDir, AdminToken: os.Getenv("DYNAPI_ADMIN_TOKEN"), MaxBodyBytes: *maxBody,
		MaxDocumentBytes: *maxDoc, PreloadExample: *example, Logger: log, Out: stdout,
	})
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- inst.Server.Listen(*addr) }()
	log.Info("dynapi listening", "addr", *addr, "data_dir", *dataDir, "version", version())
	select {
	case err = <-errc:
	case <-ctx.Done():
		log.Info("shutting down")
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return errors.Join(err, inst.Close(shutdownCtx))
}

func env(name, fallback string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return fallback
}

func envInt(name string, fallback int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
	}
	return fallback
}
