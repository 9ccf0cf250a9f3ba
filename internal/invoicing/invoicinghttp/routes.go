package invoicinghttp

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
)

// routes returns the router with every route of the API, and its /v1
// router and Host for the routes of another context.
func routes(s *server, cfg Config) *API {
	r := newRouter(cfg)
	opsRoutes(r, cfg)
	docsRoutes(r)
	api := &API{Handler: r}

	r.Route("/v1", func(r chi.Router) {
		r.Use(deadline(cfg.RequestTimeout))
		r.Get("/openapi.yaml", openAPI) // public: outside the authenticated group

		// The API key's tenant is a parameter of each handler (authenticated),
		// after it the query parameters the route takes (no others).
		auth := authenticated(s.app.Authenticate)
		r.Post("/invoices", auth(s.createInvoice))
		r.Get("/invoices", auth(s.listInvoices, "limit", "starting_after", "status", "customer_email"))
		r.Get("/invoices/{id}", auth(s.getInvoice))
		r.Patch("/invoices/{id}", auth(s.updateInvoice))
		r.Get("/invoices/{id}/lines", auth(s.listLines, "limit", "starting_after"))
		r.Post("/invoices/{id}/lines", auth(s.addLine))
		r.Delete("/invoices/{id}/lines/{line_id}", auth(s.removeLine))
		r.Post("/invoices/{id}/issue", auth(s.issueInvoice))
		r.Post("/invoices/{id}/payments", auth(s.payInvoice))
		r.Post("/invoices/{id}/void", auth(s.voidInvoice))
		r.Post("/invoices/{id}/mark_uncollectible", auth(s.markUncollectible))
		r.Get("/invoices/{id}/events", auth(s.invoiceEvents, "after"))
		r.Post("/invoices/{id}/credit_notes", auth(s.issueCreditNote))
		r.Get("/invoices/{id}/credit_notes", auth(s.listInvoiceCreditNotes, "limit", "starting_after"))
		r.Get("/credit_notes", auth(s.listCreditNotes, "limit", "starting_after"))
		r.Get("/credit_notes/{id}", auth(s.getCreditNote))
		r.Get("/events", auth(s.listEvents, "after", "limit", "type"))
		api.v1, api.host = r, &Host{s: s, auth: auth}
	})
	return api
}

// newRouter returns a router with the middleware and the problem+json
// answers for unknown routes and methods that every route shares.
func newRouter(cfg Config) *chi.Mux {
	r := chi.NewRouter()
	r.Use(traced(cfg.Tracer), requestID(cfg.Logger), accessLog(cfg.Metrics), recoverer)

	// Set before Route: chi copies them into sub-routers when mounting.
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, errRouteNotFound)
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Allow", strings.Join(allowed(r, req), ", "))
		writeProblem(w, req, errMethodNotAllowed)
	})
	return r
}

// opsRoutes adds the operational routes to r: for the orchestrator and the
// monitoring, without an API key. They reveal no data, no addresses and no
// error texts; still, /metrics is for the internal network only (see the
// README).
func opsRoutes(r chi.Router, cfg Config) {
	r.Get("/healthz", healthz)
	r.Method(http.MethodGet, "/readyz", &ready{checks: cfg.Checks, timeout: cfg.CheckTimeout, log: cfg.Logger, failed: map[string]bool{}})
	if cfg.MetricsHandler != nil {
		r.Method(http.MethodGet, "/metrics", cfg.MetricsHandler)
	}
}

// allowed returns the methods mux routes for req's path, for a 405's Allow header.
func allowed(mux *chi.Mux, req *http.Request) []string {
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if mux.Match(chi.NewRouteContext(), m, req.URL.Path) {
			out = append(out, m)
		}
	}
	return out
}
