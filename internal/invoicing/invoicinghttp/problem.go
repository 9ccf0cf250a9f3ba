package invoicinghttp

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/invoicing-dev/invoicing/internal/failure"
)

// problemTypePrefix prefixes every problem type; the rest is the error's code.
const problemTypePrefix = "urn:invoicing:problem:"

// statusOf is the one mapping from error kind to HTTP status.
var statusOf = map[failure.Kind]int{
	failure.Invalid:      http.StatusUnprocessableEntity,
	failure.NotFound:     http.StatusNotFound,
	failure.Conflict:     http.StatusConflict,
	failure.Unauthorized: http.StatusUnauthorized,
	failure.Precondition: http.StatusPreconditionFailed,
	failure.Internal:     http.StatusInternalServerError,
	failure.Unavailable:  http.StatusServiceUnavailable,
}

// retryAfterUnavailable is the Retry-After of a 503, in seconds: long enough
// not to hammer a database that is restarting or failing over, short enough
// that a client retrying as told barely notices a brief outage.
const retryAfterUnavailable = "2"

// requestError is a fault of the HTTP request itself (body, media type,
// route, method), found before any use case runs. Such faults have no domain
// kind, so each carries its status.
type requestError struct {
	status  int
	code    string
	field   string
	message string
}

func (e *requestError) Error() string { return e.message }

// Errors of the transport that carry no per-request detail.
var (
	errRouteNotFound    = &requestError{status: http.StatusNotFound, code: "not_found", message: "no such route"}
	errMethodNotAllowed = &requestError{status: http.StatusMethodNotAllowed, code: "method_not_allowed", message: "the route does not support this method"}
)

// problem is an RFC 9457 problem details body.
type problem struct {
	Type      string       `json:"type"`
	Title     string       `json:"title"`
	Status    int          `json:"status"`
	Detail    string       `json:"detail"`
	Errors    []fieldError `json:"errors,omitempty"`
	RequestID string       `json:"request_id,omitempty"`
}

type fieldError struct {
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// writeProblem writes err as application/problem+json. Request errors and
// domain errors are shown to the caller; anything else, and domain errors of
// KindInternal, is logged with the request id and answered with a generic 500.
// KindUnavailable is a 503 with Retry-After, its cause logged as a warning.
func writeProblem(w http.ResponseWriter, r *http.Request, err error) {
	p := problemFor(err)
	switch p.Status {
	case http.StatusInternalServerError:
		logger(r.Context()).ErrorContext(r.Context(), "request failed", slog.Any("err", err))
	case http.StatusServiceUnavailable:
		logger(r.Context()).WarnContext(r.Context(), "request failed: service unavailable", slog.Any("err", err))
		w.Header().Set("Retry-After", retryAfterUnavailable)
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", "Bearer")
	}
	p.RequestID = RequestID(r.Context())
	body, _ := json.Marshal(p) // a problem holds only strings and ints
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(p.Status)
	_, _ = w.Write(body)
}

// problemFor builds the body for err, without request id.
func problemFor(err error) problem {
	var re *requestError
	if errors.As(err, &re) {
		p := problem{Type: problemTypePrefix + re.code, Title: title(re.code), Status: re.status, Detail: re.message}
		if re.field != "" {
			p.Errors = []fieldError{{Field: re.field, Message: re.message}}
		}
		return p
	}
	var first *failure.Error
	var status int
	if errors.As(err, &first) {
		status = statusOf[first.Kind] // 0 for a kind the table lacks: treated as internal
	}
	if status == 0 || status == http.StatusInternalServerError {
		return problem{
			Type:   problemTypePrefix + "internal",
			Title:  "Internal error",
			Status: http.StatusInternalServerError,
			Detail: "the server failed to handle the request; quote the request id when reporting it",
		}
	}
	all := domainErrors(err)
	if len(all) == 0 { // first came from a custom As method the walk cannot see
		all = []*failure.Error{first}
	}
	p := problem{Type: problemTypePrefix + first.Code, Title: title(first.Code), Status: status}
	details := make([]string, 0, len(all))
	for _, e := range all {
		if e.Kind == failure.Internal {
			continue // never shown, even beside a caller's error
		}
		p.Errors = append(p.Errors, fieldError{Field: e.Field, Message: e.Message})
		details = append(details, e.Error())
	}
	p.Detail = strings.Join(details, "; ")
	return p
}

// domainErrors returns every *failure.Error in err's tree, depth first, so a
// joined set of validation errors reports each field.
func domainErrors(err error) []*failure.Error {
	var out []*failure.Error
	var walk func(error)
	walk = func(err error) {
		switch x := err.(type) {
		case nil:
		case *failure.Error:
			out = append(out, x)
		case interface{ Unwrap() []error }:
			for _, e := range x.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(x.Unwrap())
		}
	}
	walk(err)
	return out
}

// title turns a code into a short human title: "invoice_not_found" becomes
// "Invoice not found".
func title(code string) string {
	t := strings.ReplaceAll(code, "_", " ")
	if t == "" {
		return t
	}
	return strings.ToUpper(t[:1]) + t[1:]
}
