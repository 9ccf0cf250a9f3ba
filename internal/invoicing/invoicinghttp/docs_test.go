package invoicinghttp_test

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicinghttp"
)

// TestDocs200ServesThePageAndEveryAssetItNames reads GET /docs and follows
// every src and href of the page: each is a path on this server (no CDN),
// answered 200 with its type, the page's policy and a validator that a
// conditional request turns into a 304. The page renders the document the
// service serves.
func TestDocs200ServesThePageAndEveryAssetItNames(t *testing.T) {
	t.Parallel()
	base, _ := opsServer(t, invoicinghttp.Config{})
	page := fetchDoc(t, base+"/docs", "text/html; charset=utf-8")
	if !strings.Contains(string(page), `spec-url="/v1/openapi.yaml"`) {
		t.Fatalf("GET /docs does not render /v1/openapi.yaml:\n%s", page)
	}
	refs := regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllStringSubmatch(string(page), -1)
	var scripts int
	for _, ref := range refs {
		url := ref[1]
		switch {
		case strings.HasPrefix(url, "data:"):
			continue
		case !strings.HasPrefix(url, "/") || strings.HasPrefix(url, "//"):
			t.Errorf("GET /docs names %q: every asset must come from this server", url)
			continue
		}
		if strings.HasSuffix(url, ".js") {
			scripts++
			body := fetchDoc(t, base+url, "text/javascript; charset=utf-8")
			if strings.Contains(string(body), "https://cdn.") {
				t.Errorf("%s loads from a CDN; tools/apidocs/check.sh vendor removes its one such URL", url)
			}
		}
	}
	if scripts == 0 {
		t.Fatalf("GET /docs loads no script:\n%s", page)
	}
	for _, license := range []string{"/docs/redoc.LICENSE", "/docs/redoc.standalone.js.LICENSE.txt"} {
		fetchDoc(t, base+license, "text/plain; charset=utf-8")
	}
}

// fetchDoc returns the body of GET url after checking its status, type and
// headers, and that a request with its ETag is answered 304.
func fetchDoc(t *testing.T, url, contentType string) []byte {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	h := res.Header
	if res.StatusCode != http.StatusOK || h.Get("Content-Type") != contentType || h.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("GET %s = %d %q nosniff=%q; want 200 %q nosniff", url, res.StatusCode, h.Get("Content-Type"), h.Get("X-Content-Type-Options"), contentType)
	}
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self';", "connect-src 'self';", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("GET %s: Content-Security-Policy %q lacks %q", url, csp, want)
		}
	}
	if strings.Contains(csp, "http") || strings.Contains(csp, "'unsafe-") {
		t.Errorf("GET %s: Content-Security-Policy %q allows another origin or unsafe sources", url, csp)
	}
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("If-None-Match", h.Get("ETag"))
	again, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = again.Body.Close()
	if h.Get("ETag") == "" || again.StatusCode != http.StatusNotModified {
		t.Errorf("GET %s with If-None-Match %q = %d, want 304", url, h.Get("ETag"), again.StatusCode)
	}
	return body
}
