package invoicinghttp

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
)

// change answers a request that changes an invoice: it runs do and writes the
// resulting invoice with status (and, if location, its URL in Location), or
// the problem do failed with.
//
// With an Idempotency-Key, do gets an app.IdempotentRequest whose Response
// encodes this answer (renderInvoice, framed): the repository stores those
// bytes in the change's transaction and hands them back, and change writes
// exactly them, or, for a retry of the same request, the bytes stored by the
// first one, with Idempotent-Replayed: true. body is the request body as
// read, part of the request's fingerprint.
func (s *server) change(w http.ResponseWriter, r *http.Request, body []byte, status int, location bool,
	do func(key *app.IdempotentRequest) (app.Changed, error)) {
	key, ok := idempotencyKey(w, r, body, func(inv *invoice.Invoice) ([]byte, error) {
		resp, err := renderInvoice(inv, status, location)
		if err != nil {
			return nil, err
		}
		return resp.frame(), nil
	})
	if !ok {
		return
	}
	changed, err := do(key)
	writeChange(w, r, err, changed.Response, func() (response, error) { return renderInvoice(changed.Invoice, status, location) })
}

// idempotencyKey returns the request's Idempotency-Key, fingerprinted with
// its body, whose stored answer encode makes of the changed invoice (nil:
// the command sets its own); nil without the header. A malformed key is
// answered with its problem, and ok is false.
func idempotencyKey(w http.ResponseWriter, r *http.Request, body []byte,
	encode func(*invoice.Invoice) ([]byte, error)) (_ *app.IdempotentRequest, ok bool) {
	keys, sent := r.Header["Idempotency-Key"]
	if !sent {
		return nil, true
	}
	key, err := app.NewIdempotentRequest(strings.Join(keys, ","), fingerprint(r, body), encode)
	if err != nil {
		writeProblem(w, r, err)
		return nil, false
	}
	return key, true
}

// writeChange writes the answer to a change that failed with err or stored
// stored (nil: no key, or nothing stored): the stored bytes replayed (with
// Idempotent-Replayed) or as stored, the problem, or else render's answer.
func writeChange(w http.ResponseWriter, r *http.Request, err error, stored []byte, render func() (response, error)) {
	var replayed *app.Replayed
	switch {
	case errors.As(err, &replayed):
		w.Header().Set("Idempotent-Replayed", "true")
		writeFramed(w, r, replayed.Response)
	case err != nil:
		writeProblem(w, r, err)
	case stored != nil:
		writeFramed(w, r, stored)
	default: // no key, or the request changed nothing and nothing was stored
		resp, err := render()
		if err != nil {
			writeProblem(w, r, err)
			return
		}
		writeResponse(w, resp)
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

// response is an answer as written: status, headers, body.
type response struct {
	status int
	header map[string]string
	body   []byte
}

// frame encodes resp as the bytes stored with an idempotent change:
//
//	<status>\n<Header>: <value>\n...\n\n<body>
//
// headers sorted by name. Migration 000007 converted the responses stored
// before into this framing; header values never hold a newline.
func (resp response) frame() []byte {
	names := make([]string, 0, len(resp.header))
	for k := range resp.header {
		names = append(names, k)
	}
	slices.Sort(names)
	b := make([]byte, 0, 64+len(resp.body))
	b = strconv.AppendInt(b, int64(resp.status), 10)
	b = append(b, '\n')
	for _, k := range names {
		b = append(append(append(append(b, k...), ": "...), resp.header[k]...), '\n')
	}
	b = append(b, '\n')
	return append(b, resp.body...)
}

// unframe decodes the bytes of frame. It fails if they are not so framed.
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

// renderInvoice renders the response carrying inv: its JSON, ETag, and, if
// location, its URL. It fails only if the invoice cannot be encoded.
func renderInvoice(inv *invoice.Invoice, status int, location bool) (response, error) {
	body, err := encodeJSON(newInvoiceResponse(app.ViewOf(inv)))
	if err != nil {
		return response{}, fmt.Errorf("encode invoice: %w", err)
	}
	header := map[string]string{"Content-Type": "application/json", "ETag": etag(inv.Version())}
	if location {
		header["Location"] = invoicePath(inv.ID())
	}
	return response{status: status, header: header, body: body}, nil
}

// writeInvoice writes the response carrying inv (see renderInvoice), or the
// problem if it cannot be encoded.
func writeInvoice(w http.ResponseWriter, r *http.Request, inv *invoice.Invoice, status int, location bool) {
	resp, err := renderInvoice(inv, status, location)
	if err != nil {
		writeProblem(w, r, err)
		return
	}
	writeResponse(w, resp)
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
