package connector_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/dynapi/dynapi/engine/connector"
)

func TestRegister(t *testing.T) {
	reg := namedConnectors(t, "rest", "mapped", "core_grpc")
	for _, c := range []struct {
		name      string
		conn      connector.Connector
		want      string // in the error
		duplicate bool
	}{
		{name: "rest", conn: named("other"), want: `"rest"`, duplicate: true},
		{name: "mock", conn: named("other"), want: "alias"},
		{name: "internal", conn: named("other"), want: "dispatcher's own"},
		{name: "star", conn: named("other"), want: "alias"},
		{name: "", conn: named("other"), want: "empty name"},
		{name: "grpc", conn: nil, want: "nil connector"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := reg.Register(c.name, c.conn)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one saying %s", err, c.want)
			}
			if errors.Is(err, connector.ErrDuplicateConnector) != c.duplicate {
				t.Fatalf("error %v: duplicate %v, want %v", err, !c.duplicate, c.duplicate)
			}
		})
	}
	if got, want := reg.Names(), []string{"core_grpc", "mapped", "rest"}; !slices.Equal(got, want) {
		t.Fatalf("names %v, want %v", got, want)
	}
	if c, _ := reg.Lookup("rest"); c != named("rest") {
		t.Fatalf("rest is %v after a refused registration", c)
	}
}

// tracked is a connector (or script engine) with a lifecycle that logs to
// events; it fails to open when fail is set.
type tracked struct {
	named
	fail   bool
	events *[]string
}

func (c *tracked) Open(_ context.Context, env connector.Env) error {
	if env.Caller == nil {
		return errors.New("no caller")
	}
	if c.fail {
		return errors.New("refused")
	}
	*c.events = append(*c.events, "open "+string(c.named))
	return nil
}

func (c *tracked) Close() error {
	*c.events = append(*c.events, "close "+string(c.named))
	return nil
}

// trackedScripts is a script engine with a lifecycle.
type trackedScripts struct {
	echoScripts
	tracked
}

func TestDispatcherLifecycle(t *testing.T) {
	for _, c := range []struct {
		name     string
		fail     string // the part that fails to open
		says     string // what its error names
		wantOpen []string
		wantAll  []string // after Close
	}{
		{name: "all open", wantOpen: []string{"open a", "open mapped", "open scripts"},
			wantAll: []string{"open a", "open mapped", "open scripts", "close scripts", "close mapped", "close a"}},
		{name: "a connector fails", fail: "mapped", says: "connector mapped", wantOpen: []string{"open a", "close a"},
			wantAll: []string{"open a", "close a"}},
		{name: "the script engine fails", fail: "scripts", says: "the script engine", wantOpen: []string{"open a", "open mapped", "close mapped", "close a"},
			wantAll: []string{"open a", "open mapped", "close mapped", "close a"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var events []string
			reg := &connector.Registry{}
			for _, n := range []string{"mapped", "a"} {
				if err := reg.Register(n, &tracked{named: named(n), fail: c.fail == n, events: &events}); err != nil {
					t.Fatal(err)
				}
			}
			scripts := &trackedScripts{tracked: tracked{named: "scripts", fail: c.fail == "scripts", events: &events}}
			d, err := connector.New(connector.Options{Store: openStore(t), Scripts: scripts, Connectors: reg})
			if err != nil {
				t.Fatal(err)
			}
			err = d.Open(context.Background(), nil)
			if (err != nil) != (c.fail != "") || (err != nil && !strings.Contains(err.Error(), c.says)) {
				t.Fatalf("open: %v, want a failure of %q", err, c.fail)
			}
			if !slices.Equal(events, c.wantOpen) {
				t.Fatalf("after open %v, want %v", events, c.wantOpen)
			}
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(events, c.wantAll) {
				t.Fatalf("after close %v, want %v", events, c.wantAll)
			}
		})
	}
}
