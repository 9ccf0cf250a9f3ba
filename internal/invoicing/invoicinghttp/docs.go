package invoicinghttp

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"net/http"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
)

// apiDocs holds the rendered API reference: a page that loads Redoc's
// standalone bundle, vendored from the npm release tools/apidocs/check.sh
// pins (and verifies), so the binary serves it without reaching any CDN.
//
//go:embed apidocs/index.html apidocs/redoc.standalone.js apidocs/redoc.standalone.js.LICENSE.txt apidocs/redoc.LICENSE
var apiDocs embed.FS

// docsPolicy lets the page load only what this server serves: the script,
// the document (fetched), images Redoc inlines as data: URLs, and the
// inline styles named by their hashes. Redoc's styled-components writes its
// rules through the CSSOM and React sets element styles as properties,
// which style-src does not govern; Redoc's search index runs in a worker
// made from a blob: URL.
const docsPolicy = "default-src 'none'; script-src 'self'; style-src 'self' " + docsStyleHashes + "; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; worker-src 'self' blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// docAsset is one file of the reference, served with its type and a
// validator so that browsers revalidate rather than download it again.
type docAsset struct {
	name, contentType, etag string
	body                    []byte
}

// docAssets are the reference's routes and files, read once per process.
var docAssets = sync.OnceValue(func() map[string]docAsset {
	return map[string]docAsset{
		"/docs":                                 mustDocAsset("index.html", "text/html; charset=utf-8"),
		"/docs/redoc.standalone.js":             mustDocAsset("redoc.standalone.js", "text/javascript; charset=utf-8"),
		"/docs/redoc.standalone.js.LICENSE.txt": mustDocAsset("redoc.standalone.js.LICENSE.txt", "text/plain; charset=utf-8"),
		"/docs/redoc.LICENSE":                   mustDocAsset("redoc.LICENSE", "text/plain; charset=utf-8"),
	}
})

// docsRoutes adds GET /docs (the page) and its assets under /docs/. They
// are public, like the document they render.
func docsRoutes(r chi.Router) {
	for route, a := range docAssets() {
		r.Get(route, a.serve)
	}
}

// mustDocAsset reads name from the embedded reference; a missing file is a
// build defect, caught by any test that builds the router.
func mustDocAsset(name, contentType string) docAsset {
	body, err := apiDocs.ReadFile("apidocs/" + name)
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(body)
	return docAsset{name: name, contentType: contentType, etag: `"` + hex.EncodeToString(sum[:16]) + `"`, body: body}
}

func (a docAsset) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Content-Security-Policy", docsPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-cache") // revalidated by ETag: a new release shows at once
	h.Set("ETag", a.etag)
	http.ServeContent(w, r, a.name, time.Time{}, bytes.NewReader(a.body))
}

// docsStyleHashes are the inline styles Redoc's bundle writes as text: the
// empty style element styled-components fills through the CSSOM, and one
// fixed sheet. A bundle that writes others shows in the browser check as a
// policy violation (tools/apidocs/check.sh browser).
const docsStyleHashes = "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=' 'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='"
