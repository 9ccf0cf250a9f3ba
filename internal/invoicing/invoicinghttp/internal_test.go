package invoicinghttp_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicinghttp"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/pgtest"
)

const genericDetail = "the server failed to handle the request; quote the request id when reporting it"

func TestGetInvoice500DoesNotLeak(t *testing.T) {
	t.Parallel()
	// API keys and invoices on separate pools, so closing the invoices' pool
	// fails the use case, not authentication.
	needsPostgres(t)
	url := pgtest.NewURL(t)
	keysPool, invoicesPool := connect(t, url), connect(t, url)
	c := serve(t, app.New(invoicingpg.NewInvoices(invoicesPool), invoicingpg.NewAPIKeys(keysPool), invoicingpg.NewEvents(invoicesPool), app.SystemClock{}))
	inv := c.newDraft(t, c.keyA)
	invoicesPool.Close()

	res := c.do(t, "GET", "/v1/invoices/"+inv.ID, c.keyA, nil, "X-Request-Id", "req-500")
	p := wantProblem(t, res, http.StatusInternalServerError, "internal", "")
	if p.Detail != genericDetail || strings.Contains(string(res.body), "pool") || len(p.Errors) != 0 {
		t.Errorf("500 problem shows %q %+v, want the generic detail only", p.Detail, p.Errors)
	}
	wantErrorLogged(t, c.logs, "req-500", "closed pool")
}

// An App without ports panics in its first use case; the recoverer turns that
// into a logged 500.
func TestAPI500Panic(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	srv := httptest.NewServer(invoicinghttp.NewHandler(&app.App{}, invoicinghttp.Config{Logger: slog.New(slog.NewJSONHandler(logs, nil))}))
	t.Cleanup(srv.Close)
	c := &api{url: srv.URL, logs: logs}
	c.withClients(t)

	res := c.do(t, "GET", "/v1/invoices", "inv_whatever", nil, "X-Request-Id", "req-panic")
	p := wantProblem(t, res, http.StatusInternalServerError, "internal", "")
	if p.Detail != genericDetail || strings.Contains(string(res.body), "nil pointer") {
		t.Errorf("panic leaked: %s", res.body)
	}
	wantErrorLogged(t, logs, "req-panic", "panic")
	// The server survives the panic.
	wantProblem(t, c.invalid().do(t, "GET", "/v1/nope", "", nil), http.StatusNotFound, "not_found", "")
}

// wantErrorLogged checks for an error line with the request id whose err
// contains text.
func wantErrorLogged(t *testing.T, logs *syncBuffer, requestID, text string) {
	t.Helper()
	for _, line := range splitLines(logs.String()) {
		var rec map[string]any
		_ = json.Unmarshal([]byte(line), &rec)
		if err, _ := rec["err"].(string); rec["request_id"] == requestID && rec["level"] == "ERROR" && strings.Contains(err, text) {
			return
		}
	}
	t.Errorf("no error log line with request id %s and %q; logs:\n%s", requestID, text, logs)
}
