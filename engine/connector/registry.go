package connector

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
)

// Registry holds connectors by name, as database/sql.Register holds
// drivers: a name is registered once, and registering it again is an
// error, so a plugin can never silently replace another (nor a built-in
// replace a plugin). The zero Registry is empty and ready to use; it is
// not safe for concurrent registration, which belongs to start-up.
type Registry struct {
	conns map[string]Connector
}

// ErrDuplicateConnector refuses a second connector under a name already
// registered.
var ErrDuplicateConnector = errors.New("connector: name already registered")

// Register adds c under name. An empty name, a nil connector, the name
// the dispatcher answers itself (Internal), an alias and a name already
// registered are refused: the composition root registers obp_mock,
// dynamic_entity, mapped and rest, so a plugin under one of those names
// refuses the start.
func (r *Registry) Register(name string, c Connector) error {
	switch {
	case name == "":
		return errors.New("connector: register: empty name")
	case c == nil:
		return fmt.Errorf("connector: register %q: nil connector", name)
	case name == Internal:
		return fmt.Errorf("connector: register %q: the name is the dispatcher's own connector", name)
	case aliases[name] != "":
		return fmt.Errorf("connector: register %q: the name is an alias of %q", name, aliases[name])
	}
	if _, dup := r.conns[name]; dup {
		return fmt.Errorf("%w: %q", ErrDuplicateConnector, name)
	}
	if r.conns == nil {
		r.conns = map[string]Connector{}
	}
	r.conns[name] = c
	return nil
}

// Names lists the registered names, sorted.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.conns))
	for n := range r.conns {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Lookup returns the connector registered under name.
func (r *Registry) Lookup(name string) (Connector, bool) {
	c, ok := r.conns[name]
	return c, ok
}

// Env is what the dispatcher hands a connector or script engine when it
// opens.
type Env struct {
	// Caller calls connector methods by name: the dispatcher itself, for
	// what runs scripts (connector.call).
	Caller Caller
	Logger *slog.Logger
}

// Opener is implemented by a connector or script engine that needs its
// Env, or acquires resources, before its first use. Dispatcher.Open calls
// it once; what also implements io.Closer is closed by Dispatcher.Close,
// or at once when a later one fails to open.
type Opener interface {
	Open(ctx context.Context, env Env) error
}

// lifecycle opens and closes the parts of a dispatcher.
type lifecycle struct {
	opened []io.Closer // in the order opened
}

// open opens each part that is an Opener, in order. When one fails, the
// parts already opened are closed, and the errors returned together.
func (l *lifecycle) open(ctx context.Context, env Env, parts []namedPart) error {
	for _, p := range parts {
		if o, ok := p.part.(Opener); ok {
			if err := o.Open(ctx, env); err != nil {
				return errors.Join(fmt.Errorf("connector: open %s: %w", p.name, err), l.close())
			}
		}
		if c, ok := p.part.(io.Closer); ok {
			l.opened = append(l.opened, c)
		}
	}
	return nil
}

// close closes the opened parts in reverse order, each once.
func (l *lifecycle) close() error {
	var errs []error
	for i := len(l.opened) - 1; i >= 0; i-- {
		errs = append(errs, l.opened[i].Close())
	}
	l.opened = nil
	return errors.Join(errs...)
}

// namedPart is a connector or the script engine, named for errors.
type namedPart struct {
	name string
	part any
}
