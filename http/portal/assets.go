package portal

import (
	"bytes"
	"compress/gzip"
	"embed"
	"encoding/json"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"

	"github.com/dynapi/dynapi/engine"
	swaggerui "github.com/swaggest/swgui/v5/static"
)

//go:embed static
var staticFiles embed.FS

// serveAsset answers one of the portal's own files: its stylesheet
// (shared with the consent authorisation pages) and its scripts.
func serveAsset(c *fiber.Ctx) error {
	name := c.Params("file")
	body, err := fs.ReadFile(staticFiles, "static/"+name)
	if err != nil || strings.ContainsAny(name, "/\\") {
		return notFound()
	}
	return sendAsset(c, name, body)
}

// swaggerFiles are the Swagger UI files the viewer page uses, from the
// swgui module (gzipped there), unpacked once on first use.
var swaggerFiles = sync.OnceValue(func() map[string][]byte {
	out := map[string][]byte{}
	for _, name := range []string{"swagger-ui-bundle.js", "swagger-ui.css"} {
		if b, err := gunzipFile(swaggerui.FS, name+".gz"); err == nil {
			out[name] = b
		}
	}
	return out
})

// gunzipFile reads and unpacks a gzipped file of fsys.
func gunzipFile(fsys fs.FS, name string) ([]byte, error) {
	raw, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

// serveSwaggerAsset answers a Swagger UI file under
// /portal/assets/swagger-ui/.
func serveSwaggerAsset(c *fiber.Ctx) error {
	name := strings.Clone(c.Params("file"))
	body, ok := swaggerFiles()[name]
	if !ok {
		return notFound()
	}
	return sendAsset(c, name, body)
}

// sendAsset answers a static file with its type, cached for an hour.
func sendAsset(c *fiber.Ctx, name string, body []byte) error {
	switch {
	case strings.HasSuffix(name, ".css"):
		c.Set(fiber.HeaderContentType, "text/css; charset=utf-8")
	case strings.HasSuffix(name, ".js"):
		c.Set(fiber.HeaderContentType, "text/javascript; charset=utf-8")
	case strings.HasSuffix(name, ".svg"):
		c.Set(fiber.HeaderContentType, "image/svg+xml")
	default:
		return notFound()
	}
	c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	return c.Status(http.StatusOK).Send(body)
}

// jsonEncoder is an indenting encoder that leaves <, > and & as they are
// (html/template escapes what it writes).
func jsonEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc
}

// notFound is the answer for a file the portal does not serve.
func notFound() error {
	return engine.NewError(http.StatusNotFound, engine.CodeNotFound, "no such file")
}

// Stylesheet is the portal's stylesheet, for pages outside the portal
// that look the same and inline it under their own
// Content-Security-Policy (the consent authorisation pages).
var Stylesheet = template.CSS(mustRead(staticFiles, "static/portal.css"))

// mustRead reads an embedded file that is there by construction.
func mustRead(fsys fs.FS, name string) []byte {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		panic(err)
	}
	return b
}
