package invoicinghttp

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
)

// change answers a request that changes an invoice: it runs do and writes
// the resulting invoice with status (and, if location, its URL in
// Location), or the problem do failed with.
//
// With an Idempotency-Key, do gets an app.IdempotentRequest (the key and the
// request's fingerprint: body is the request body as read, part of it). The
// use case stores its app.Result with the change; change frames the answer
// from that stored Result (frameInvoice), and for a retry of the same
// request from the Result the first one stored, with Idempotent-Replayed:
// true, so both answers are made the same way from the same bytes.
func (s *server) change(w http.ResponseWriter, r *http.Request, body []byte, status int, location bool,
	do func(key *app.IdempotentRequest) (app.Changed, error)) {
	key, ok := idempotencyKey(w, r, body)
	if !ok {
		return
	}
	changed, err := do(key)
	writeChange(w, r, err, changed.Result,
		func(res app.Result) (response, error) { return frameInvoice(res, status, location) },
		func() (response, error) { return renderInvoice(app.ViewOf(changed.Invoice), status, location) })
}

// idempotencyKey returns the request's Idempotency-Key, fingerprinted with
// its body; nil without the header. A malformed key is answered with its
// problem, and ok is false.
func idempotencyKey(w http.ResponseWriter, r *http.Request, body []byte) (_ *app.IdempotentRequest, ok bool) {
	keys, sent := r.Header["Idempotency-Key"]
	if !sent {
		return nil, true
	}
	key, err := app.NewIdempotentRequest(strings.Join(keys, ","), fingerprint(r, body))
	if err != nil {
		writeProblem(w, r, err)
		return nil, false
	}
	return key, true
}

// writeChange writes the answer to a change that failed with err or stored
// stored (zero: no key, or nothing stored): a replay of the stored answer
// (with Idempotent-Replayed), the problem, the answer frame makes of the
// stored Result, or else render's answer.
func writeChange(w http.ResponseWriter, r *http.Request, err error, stored app.Result,
	frame func(app.Result) (response, error), render func() (response, error)) {
	var replayed *app.Replayed
	switch {
	case errors.As(err, &replayed) && replayed.Legacy != nil:
		w.Header().Set("Idempotent-Replayed", "true")
		writeFramed(w, r, replayed.Legacy)
	case errors.As(err, &replayed):
		w.Header().Set("Idempotent-Replayed", "true")
		writeRendered(w, r, func() (response, error) { return frame(replayed.Result) })
	case err != nil:
		writeProblem(w, r, err)
	case !stored.IsZero():
		writeRendered(w, r, func() (response, error) { return frame(stored) })
	default: // no key, or the request changed nothing and nothing was stored
		writeRendered(w, r, render)
	}
}

// writeRendered writes render's answer, or the problem it failed with.
func writeRendered(w http.ResponseWriter, r *http.Request, render func() (response, error)) {
	resp, err := render()
	if err != nil {
		writeProblem(w, r, err)
		return
	}
	writeResponse(w, resp)
}

// fingerprint identifies a request for its Idempotency-Key: a SHA-256 of its
// method, path and body. The key is already scoped to the tenant.
func fingerprint(r *http.Request, body []byte) []byte {
	h := sha256.New()
	fmt.Fprintf(h, "%s %s\n", r.Method, r.URL.EscapedPath())
	h.Write(body)
	return h.Sum(nil)
}

// response is an answer as written: status, headers, body.
type response struct {
	status int
	header map[string]string
	body   []byte
}

// unframe decodes an answer stored, before results, as the HTTP layer's own
// bytes:
//
//	<status>\n<Header>: <value>\n...\n\n<body>
//
// headers sorted by name (migration 000007 converted the answers stored
// before it into this framing). Migration 000010 keeps such rows as they
// are, and a replay writes them verbatim. It fails if b is not so framed.
func unframe(b []byte) (response, error) {
	head, body, ok := bytes.Cut(b, []byte("\n\n"))
	if !ok {
		return response{}, errors.New("http: stored response is not framed")
	}
	lines := strings.Split(string(head), "\n")
	status, err := strconv.Atoi(lines[0])
	if err != nil || status < 100 || status > 999 {
		return response{}, fmt.Errorf("http: stored response has no status: %q", lines[0])
	}
	resp := response{status: status, header: make(map[string]string, len(lines)-1), body: body}
	for _, l := range lines[1:] {
		k, v, ok := strings.Cut(l, ": ")
		if !ok {
			return response{}, fmt.Errorf("http: stored response has a malformed header: %q", l)
		}
		resp.header[k] = v
	}
	return resp, nil
}

// frameInvoice frames the answer carrying the invoice res stored: see
// renderInvoice. It fails if res is not an invoice's, its view does not
// decode, or names another invoice or version than res.
func frameInvoice(res app.Result, status int, location bool) (response, error) {
	v, err := res.Invoice()
	if err != nil {
		return response{}, err
	}
	if uuid.UUID(v.ID) != res.ID || v.Version != res.Version {
		return response{}, fmt.Errorf("http: stored result of invoice %s v%d holds the view of %s v%d", res.ID, res.Version, v.ID, v.Version)
	}
	return renderInvoice(v, status, location)
}

// renderInvoice renders the response carrying the invoice v shows: its
// JSON, ETag, and, if location, its URL. It fails only if the invoice
// cannot be encoded.
func renderInvoice(v app.InvoiceView, status int, location bool) (response, error) {
	body, err := encodeJSON(newInvoiceResponse(v))
	if err != nil {
		return response{}, fmt.Errorf("encode invoice: %w", err)
	}
	header := map[string]string{"Content-Type": "application/json", "ETag": etag(v.Version)}
	if location {
		header["Location"] = invoicePath(v.ID)
	}
	return response{status: status, header: header, body: body}, nil
}

// writeInvoice writes the response carrying inv (see renderInvoice), or the
// problem if it cannot be encoded.
func writeInvoice(w http.ResponseWriter, r *http.Request, inv *invoice.Invoice, status int, location bool) {
	writeRendered(w, r, func() (response, error) { return renderInvoice(app.ViewOf(inv), status, location) })
}

// writeFramed writes the response framed in b verbatim, or the problem if b
// is not a framed response.
func writeFramed(w http.ResponseWriter, r *http.Request, b []byte) {
	resp, err := unframe(b)
	if err != nil {
		writeProblem(w, r, err)
		return
	}
	writeResponse(w, resp)
}

// writeResponse writes resp verbatim.
func writeResponse(w http.ResponseWriter, resp response) {
	for k, v := range resp.header {
		w.Header().Set(k, v)
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(resp.status)
	_, _ = w.Write(resp.body)
}
