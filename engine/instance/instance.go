// Package instance wires a complete dynapi server from a Config: the
// embedded store, the dynamic endpoint manager with its connectors, the
// management API and the HTTP edge. cmd/dynapi and the end-to-end tests
// both start servers through it.
package instance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"

	"github.com/gofiber/fiber/v2"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/admin"
	"github.com/dynapi/dynapi/engine/endpoints"
	"github.com/dynapi/dynapi/engine/server"
	"github.com/dynapi/dynapi/examples"
	"github.com/dynapi/dynapi/plugins/boltstore"
	"github.com/dynapi/dynapi/plugins/mock"
	"github.com/dynapi/dynapi/specs"
)

// Config is everything a server needs to start.
type Config struct {
	DataDir          string
	AdminToken       string // "" means generate at first start
	MaxBodyBytes     int
	MaxDocumentBytes int
	// PreloadExample serves examples.BankAccounts at first start.
	PreloadExample bool
	Logger         *slog.Logger
	// Out receives the one-time notice of a generated admin token.
	Out io.Writer
}

// Instance is a running dynapi: its store, endpoints and HTTP server.
type Instance struct {
	Store     engine.Store
	Endpoints *endpoints.Manager
	Server    *server.Server
}

// Open starts everything but the listener: it opens the store, settles the
// admin token, loads the persisted endpoints and, at first start, the
// example.
func Open(ctx context.Context, cfg Config) (*Instance, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	store, err := boltstore.Open(filepath.Join(cfg.DataDir, "dynapi.db"), boltstore.Options{})
	if err != nil {
		return nil, err
	}
	inst, err := open(ctx, cfg, store)
	if err != nil {
		return nil, errors.Join(err, store.Close())
	}
	return inst, nil
}

func open(ctx context.Context, cfg Config, store engine.Store) (*Instance, error) {
	hash, generated, err := admin.BootstrapToken(ctx, store, cfg.AdminToken)
	if err != nil {
		return nil, fmt.Errorf("admin token: %w", err)
	}
	if generated != "" && cfg.Out != nil {
		fmt.Fprintf(cfg.Out, "\nGenerated admin token (shown once; only its hash is stored):\n\n    %s\n\nUse it as: Authorization: Bearer <token>\n\n", generated)
	}
	mgr := endpoints.New(store, endpoints.Options{
		Connectors: map[string]endpoints.Connector{
			mock.Host: endpoints.ConnectorFunc(func(doc *specs.Document, op *specs.Operation) (engine.Invoker, error) {
				return mock.Prepare(doc, op)
			}),
		},
		DefaultHost: mock.Host,
		Logger:      cfg.Logger,
	})
	if err := mgr.Boot(ctx); err != nil {
		return nil, err
	}
	if cfg.PreloadExample {
		if err := preloadExample(ctx, store, mgr); err != nil {
			return nil, fmt.Errorf("preload example: %w", err)
		}
	}
	srv := server.New(server.Config{MaxBodyBytes: cfg.MaxBodyBytes, MaxDocumentBytes: cfg.MaxDocumentBytes, Logger: cfg.Logger},
		mgr, func(app *fiber.App) {
			admin.Register(app, mgr, admin.Options{TokenHash: hash, MaxDocumentBytes: cfg.MaxDocumentBytes})
		})
	return &Instance{Store: store, Endpoints: mgr, Server: srv}, nil
}

const exampleKey = "example_preloaded"

// preloadExample serves the example API once per data directory, so an
// administrator who deletes it does not see it come back.
func preloadExample(ctx context.Context, store engine.Store, mgr *endpoints.Manager) error {
	var done bool
	if err := store.View(ctx, func(tx engine.Tx) error {
		_, err := tx.Get("config", exampleKey)
		done = err == nil
		if errors.Is(err, engine.ErrNotFound) {
			return nil
		}
		return err
	}); err != nil || done {
		return err
	}
	if _, err := mgr.Create(ctx, endpoints.CreateInput{Source: examples.BankAccounts, ContentType: "application/yaml"}); err != nil {
		return err
	}
	return store.Update(ctx, func(tx engine.Tx) error { return tx.Put("config", exampleKey, []byte("1")) })
}

// Close stops the server, waiting for requests in flight, and closes the
// store.
func (i *Instance) Close(ctx context.Context) error {
	return errors.Join(i.Server.Shutdown(ctx), i.Store.Close())
}
