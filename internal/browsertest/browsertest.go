// Package browsertest drives headless Chromium (Debian's chromium, by
// chromedp) in tests: it starts the browser or skips the test when none is
// installed (unless DYNAPI_REQUIRE_BROWSER is set, as in CI), records
// console errors and uncaught exceptions, checks pages for accessibility
// faults and horizontal scrolling, and saves screenshots as artifacts.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Context starts a headless Chromium for the test, or skips the test when
// none is installed and DYNAPI_REQUIRE_BROWSER is unset (.ci/run installs
// Debian's chromium and sets it, so CI never skips). The browser stops
// when the test ends, or after 90 seconds.
func Context(t testing.TB) context.Context {
	t.Helper()
	path := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		if os.Getenv("DYNAPI_REQUIRE_BROWSER") != "" {
			t.Fatal("DYNAPI_REQUIRE_BROWSER is set and no chromium is installed")
		}
		t.Skip("no chromium installed (apt-get install -y chromium)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return ctx
}

// Size is a window size the scenarios run at.
type Size struct {
	Name          string
	Width, Height int64
}

// Sizes are a desktop window and a phone's (360x740).
var Sizes = []Size{{"desktop", 1280, 900}, {"phone", 360, 740}}

// Browser is one test's browser at one size, with what it saw go wrong.
type Browser struct {
	Ctx  context.Context
	Size Size
	t    testing.TB
	dir  string
	shot int

	mu     sync.Mutex
	errors []string
}

// New starts a browser at size for t, recording console errors,
// uncaught exceptions and browser log errors (a refused resource, a
// Content-Security-Policy violation) from the start.
func New(t testing.TB, size Size) *Browser {
	t.Helper()
	b := &Browser{Ctx: Context(t), Size: size, t: t, dir: artifactDir(t)}
	messages := chromedp.Console(b.Ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				b.failure(m.String() + " at " + m.URL)
			}
		}
	}()
	b.Run(chromedp.EmulateViewport(size.Width, size.Height))
	return b
}

// artifactDir is where the test's screenshots go: under
// $DYNAPI_ARTIFACTS by test name, or a temporary directory.
func artifactDir(t testing.TB) string {
	dir := t.TempDir()
	if root := os.Getenv("DYNAPI_ARTIFACTS"); root != "" {
		dir = filepath.Join(root, regexp.MustCompile(`[^A-Za-z0-9_.-]+`).ReplaceAllString(t.Name(), "_"))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatalf("artifacts: %v", err)
		}
	}
	t.Logf("screenshots in %s", dir)
	return dir
}

func (b *Browser) failure(msg string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.errors = append(b.errors, msg)
}

// Run runs actions, failing the test on an error.
func (b *Browser) Run(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.Ctx, actions...); err != nil {
		b.t.Fatalf("browser (%s): %v", b.Size.Name, err)
	}
}

// Text is the text of the first element matching selector, once visible.
func (b *Browser) Text(selector string) string {
	b.t.Helper()
	b.Run(chromedp.WaitVisible(chromedp.CSS(selector)))
	s, err := chromedp.Run(b.Ctx, chromedp.Text(chromedp.CSS(selector)))
	if err != nil {
		b.t.Fatalf("browser (%s): text of %s: %v", b.Size.Name, selector, err)
	}
	return strings.TrimSpace(s)
}

// auditScript lists a page's accessibility faults: a form field without a
// label, not exactly one h1, a skipped heading level, an image without
// alt, and a page wider than the window.
const auditScript = `(() => {
  const faults = [];
  for (const el of document.querySelectorAll('input:not([type=hidden]),select,textarea')) {
    const id = el.id;
    const labelled = el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || el.closest('label') ||
      (id && document.querySelector('label[for="' + CSS.escape(id) + '"]'));
    if (!labelled) faults.push('no label: ' + el.outerHTML.slice(0, 120));
  }
  const h1 = document.querySelectorAll('h1').length;
  if (h1 !== 1) faults.push(h1 + ' h1 elements');
  let last = 0;
  for (const h of document.querySelectorAll('h1,h2,h3,h4,h5,h6')) {
    const level = +h.tagName[1];
    if (last && level > last + 1) faults.push('h' + level + ' after h' + last + ': ' + h.textContent.trim().slice(0, 60));
    last = level;
  }
  for (const img of document.querySelectorAll('img')) if (!img.hasAttribute('alt')) faults.push('img without alt: ' + img.src.slice(0, 80));
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth) faults.push('horizontal scroll: ' + root.scrollWidth + 'px wide in ' + root.clientWidth + 'px');
  return faults;
})()`

// Check checks the page the browser shows: no console error or exception
// since the last check, no accessibility fault, no horizontal scroll; and
// saves a screenshot named name.
func (b *Browser) Check(name string) {
	b.t.Helper()
	b.Run(chromedp.WaitReady(chromedp.CSS("body")))
	faults, err := chromedp.Run(b.Ctx, chromedp.Evaluate[[]string](auditScript))
	if err != nil {
		b.t.Fatalf("browser (%s): audit %s: %v", b.Size.Name, name, err)
	}
	png, err := chromedp.Run(b.Ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("browser (%s): screenshot %s: %v", b.Size.Name, name, err)
	}
	b.shot++
	file := filepath.Join(b.dir, fmt.Sprintf("%02d-%s-%s.png", b.shot, b.Size.Name, name))
	if err := os.WriteFile(file, png, 0o644); err != nil {
		b.t.Errorf("screenshot: %v", err)
	}
	for _, f := range faults {
		b.t.Errorf("%s (%s): %s", name, b.Size.Name, f)
	}
	b.mu.Lock()
	seen := b.errors
	b.errors = nil
	b.mu.Unlock()
	for _, e := range seen {
		b.t.Errorf("%s (%s): %s", name, b.Size.Name, e)
	}
}
