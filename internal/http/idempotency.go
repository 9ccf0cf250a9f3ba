package http

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/invoicing-dev/invoicing/internal/app"
	"github.com/invoicing-dev/invoicing/internal/domain/invoice"
)

// change answers a request that changes an invoice: it runs do and writes the
// resulting invoice with status (and, if location, its URL in Location), or
// the problem do failed with.
//
// With an Idempotency-Key, do runs with an app.Idempotency in its ctx: the
// repository then stores the rendered response in the change's transaction,
// and change writes exactly the stored bytes, or, for a retry of the same
// request, the bytes stored by the first one, with Idempotent-Replayed: true.
// body is the request body as read, part of the request's fingerprint.
func (s *server) change(w http.ResponseWriter, r *http.Request, body []byte, status int, location bool,
	do func(ctx context.Context) (*invoice.Invoice, error)) {
	ctx := r.Context()
	var idem *app.Idempotency
	if keys, ok := r.Header["Idempotency-Key"]; ok {
		render := func(inv *invoice.Invoice) (app.StoredResponse, error) { return renderInvoice(inv, status, location) }
		var err error
		if idem, err = app.NewIdempotency(strings.Join(keys, ","), fingerprint(r, body), render); err != nil {
			writeProblem(w, r, err)
			return
		}
		ctx = app.WithIdempotency(ctx, idem)
	}
	inv, err := do(ctx)
	var replayed *app.Replayed
	switch {
	case errors.As(err, &replayed):
		w.Header().Set("Idempotent-Replayed", "true")
		writeStored(w, replayed.Response)
	case err != nil:
		writeProblem(w, r, err)
	case idem != nil && idem.Stored != nil:
		writeStored(w, *idem.Stored)
	default: // no key, or the request changed nothing and nothing was stored
		writeInvoice(w, r, inv, status, location)
	}
}

// fingerprint identifies a request for its Idempotency-Key: a SHA-256 of its
// method, path and body. The key is already scoped to the tenant.
func fingerprint(r *http.Request, body []byte) []byte {
	h := sha256.New()
	fmt.Fprintf(h, "%s %s\n", r.Method, r.URL.EscapedPath())
	h.Write(body)
	return h.Sum(nil)
}

// renderInvoice renders the response carrying inv: its JSON, ETag, and, if
// location, its URL. It fails only if the invoice cannot be encoded.
func renderInvoice(inv *invoice.Invoice, status int, location bool) (app.StoredResponse, error) {
	body, err := encodeJSON(newInvoiceResponse(app.ViewOf(inv)))
	if err != nil {
		return app.StoredResponse{}, fmt.Errorf("encode invoice: %w", err)
	}
	header := map[string]string{"Content-Type": "application/json", "ETag": etag(inv.Version())}
	if location {
		header["Location"] = invoicePath(inv.ID())
	}
	return app.StoredResponse{Status: status, Header: header, Body: body}, nil
}

// writeInvoice writes the response carrying inv (see renderInvoice), or the
// problem if it cannot be encoded.
func writeInvoice(w http.ResponseWriter, r *http.Request, inv *invoice.Invoice, status int, location bool) {
	resp, err := renderInvoice(inv, status, location)
	if err != nil {
		writeProblem(w, r, err)
		return
	}
	writeStored(w, resp)
}

// writeStored writes resp verbatim.
func writeStored(w http.ResponseWriter, resp app.StoredResponse) {
	for k, v := range resp.Header {
		w.Header().Set(k, v)
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(resp.Status)
	_, _ = w.Write(resp.Body)
}
