package dynapi_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/dynapi/dynapi"
	"github.com/dynapi/dynapi/engine/connector"
	"github.com/dynapi/dynapi/internal/enginetest"
)

// TestPluginUnderTakenName refuses to start with a plugin connector under
// a name the engine uses itself, instead of letting one silently replace
// the other; the refused start leaves the data directory free.
func TestPluginUnderTakenName(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name      string
		duplicate bool // refused as already registered (else as reserved)
	}{
		{"rest", true},
		{"mapped", true},
		{"mock", false},
		{"internal", false},
		{"rest_vMar2019", false}, // an alias of rest
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := enginetest.Config(dir)
			cfg.Connectors.Plugins = map[string]connector.Connector{c.name: bankFromPlugin{}, "core_grpc": bankFromPlugin{}}
			inst, err := enginetest.Start(t, enginetest.WithConfig(cfg))
			if err == nil {
				inst.Close(t)
				t.Fatalf("a plugin named %q started", c.name)
			}
			if !strings.Contains(err.Error(), `"`+c.name+`"`) {
				t.Fatalf("error %q does not name %q", err, c.name)
			}
			if got := errors.Is(err, connector.ErrDuplicateConnector); got != c.duplicate {
				t.Fatalf("error %q: ErrDuplicateConnector %v, want %v", err, got, c.duplicate)
			}
		})
	}
	enginetest.New(t, enginetest.InDir(dir)) // the refused starts closed the store
}

// lifecycle records what happens to the plugins of one dynapi.
type lifecycle struct {
	mu     sync.Mutex
	events []string
}

func (l *lifecycle) add(e string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

func (l *lifecycle) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.events)
}

// openedPlugin is a plugin connector with a lifecycle: it answers getBank
// once opened, and fails to open when told to.
type openedPlugin struct {
	bankFromPlugin
	name string
	fail bool
	life *lifecycle
}

func (p *openedPlugin) Open(_ context.Context, env connector.Env) error {
	if p.fail {
		p.life.add("fail " + p.name)
		return errors.New("back end unreachable")
	}
	if env.Caller == nil {
		p.life.add("open " + p.name + " without a caller")
	}
	p.life.add("open " + p.name)
	return nil
}

func (p *openedPlugin) Close() error {
	p.life.add("close " + p.name)
	return nil
}

// TestPluginLifecycle opens every plugin at start, in name order, and
// closes each opened one once: when the instance closes, and when a later
// plugin fails to open.
func TestPluginLifecycle(t *testing.T) {
	t.Run("start and close", func(t *testing.T) {
		life := &lifecycle{}
		cfg := enginetest.Config(t.TempDir())
		cfg.Connectors.Plugins = map[string]connector.Connector{
			"core_b": &openedPlugin{name: "core_b", life: life},
			"core_a": &openedPlugin{name: "core_a", life: life},
		}
		inst := enginetest.New(t, enginetest.WithConfig(cfg))
		inst.CreateBank(t, "gh.29.uk")
		inst.CreateRouting(t, map[string]any{"method_name": "getBank", "connector_name": "core_b"})
		if got := inst.Anonymous().Get(t, "/banks/gh.29.uk").JSON(t); got["full_name"] != "From getBank" {
			t.Fatalf("answer %v, want the plugin's", got)
		}
		if got, want := life.list(), []string{"open core_a", "open core_b"}; !slices.Equal(got, want) {
			t.Fatalf("at start %v, want %v", got, want)
		}
		inst.Close(t)
		if got, want := life.list(), []string{"open core_a", "open core_b", "close core_b", "close core_a"}; !slices.Equal(got, want) {
			t.Fatalf("after close %v, want %v", got, want)
		}
	})
	t.Run("a later plugin fails to open", func(t *testing.T) {
		life := &lifecycle{}
		dir := t.TempDir()
		cfg := enginetest.Config(dir)
		cfg.Connectors.Plugins = map[string]connector.Connector{
			"core_a": &openedPlugin{name: "core_a", life: life},
			"core_b": &openedPlugin{name: "core_b", life: life, fail: true},
		}
		_, err := dynapi.Open(context.Background(), cfg)
		if err == nil || !strings.Contains(err.Error(), "core_b") || !strings.Contains(err.Error(), "back end unreachable") {
			t.Fatalf("start error %v, want core_b's", err)
		}
		if got, want := life.list(), []string{"open core_a", "fail core_b", "close core_a"}; !slices.Equal(got, want) {
			t.Fatalf("events %v, want %v", got, want)
		}
		enginetest.New(t, enginetest.InDir(dir)) // the failed start closed the store
	})
}

// bankFromPlugin is a connector a Go plugin registers: it answers getBank
// from somewhere only it knows.
type bankFromPlugin struct{}

func (bankFromPlugin) Prepare(m *connector.Method, _ connector.Params) (connector.Invoker, error) {
	return connector.InvokerFunc(func(_ context.Context, req *connector.Request) (*connector.Result, error) {
		return &connector.Result{Data: map[string]any{"bank_id": req.BankID, "short_name": "plugin", "full_name": "From " + m.Name}}, nil
	}), nil
}

// TestPluginConnector routes a method to a connector registered in Go.
func TestPluginConnector(t *testing.T) {
	cfg := enginetest.Config(t.TempDir())
	cfg.Connectors.Plugins = map[string]connector.Connector{"core_grpc": bankFromPlugin{}}
	inst := enginetest.New(t, enginetest.WithConfig(cfg))
	inst.CreateBank(t, "gh.29.uk")
	inst.CreateRouting(t, map[string]any{"method_name": "getBank", "connector_name": "core_grpc"})
	if got := inst.Anonymous().Get(t, "/banks/gh.29.uk").JSON(t); got["full_name"] != "From getBank" {
		t.Fatalf("answer %v, want the plugin's", got)
	}
}
