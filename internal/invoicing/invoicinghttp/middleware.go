package invoicinghttp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/outbox"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

type ctxKey int

const (
	requestIDKey ctxKey = iota
	loggerKey
)

// maxRequestID bounds a caller-supplied X-Request-Id.
const maxRequestID = 128

// RequestID returns the id of the request ctx belongs to, or "" outside a
// request served by NewHandler.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// logger returns the request's logger, which carries its request id.
func logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey).(*slog.Logger); ok {
		return l
	}
	return slog.New(slog.DiscardHandler)
}

// requestID takes the caller's X-Request-Id if it is sane, else makes one
// (UUIDv7), and echoes it in the response. It puts into the request context
// the id, a logger carrying it (and the trace id of the request's span, see
// traced), and an outbox.Trace with both, which the repository stores with the
// events the request causes.
func requestID(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := r.Header.Get("X-Request-Id")
			if !saneRequestID(id) {
				id = uuid.Must(uuid.NewV7()).String()
			}
			w.Header().Set("X-Request-Id", id)
			span := trace.SpanFromContext(r.Context())
			if span.IsRecording() {
				span.SetAttributes(attribute.String("request_id", id)) // to find the trace by the response's X-Request-Id
			}
			sc := span.SpanContext()
			parent, state := traceOf(sc)
			l := log.With(slog.String("request_id", id))
			if parent != "" {
				l = l.With(slog.String("trace_id", sc.TraceID().String()))
			}
			ctx := context.WithValue(r.Context(), requestIDKey, id)
			ctx = context.WithValue(ctx, loggerKey, l)
			ctx = app.WithTrace(ctx, outbox.Trace{CorrelationID: id, TraceParent: parent, TraceState: state})
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// saneRequestID reports whether id is 1 to 128 visible ASCII characters, so it
// is safe to echo and to log.
func saneRequestID(id string) bool {
	if id == "" || len(id) > maxRequestID {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// quietRoutes are logged at debug level: probes and scrapes arrive every few
// seconds and would drown the lines that matter.
var quietRoutes = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// unmatched is the route of a request no route matched (a 404 or 405).
const unmatched = "unmatched"

// accessLog logs one line per request once it is served, with its method,
// route pattern, status, duration and (through the request's logger) request
// id, and tells obs about it.
func accessLog(obs RequestObserver) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			rec := &statusRecorder{ResponseWriter: w}
			next.ServeHTTP(rec, r)
			took := time.Since(start)
			if rec.status == 0 {
				rec.status = http.StatusOK
			}
			route := routePattern(r)
			obs.ObserveRequest(r.Method, route, rec.status, took)
			level := slog.LevelInfo
			if quietRoutes[route] {
				level = slog.LevelDebug
			}
			logger(r.Context()).LogAttrs(r.Context(), level, "request",
				slog.String("method", r.Method),
				slog.String("route", route),
				slog.Int("status", rec.status),
				slog.Duration("duration", took),
			)
		})
	}
}

// routePattern returns the pattern of the route that served r, complete only
// after routing (i.e. after the handler), or unmatched.
func routePattern(r *http.Request) string {
	rctx := chi.RouteContext(r.Context())
	if rctx == nil {
		return unmatched
	}
	p := rctx.RoutePattern()
	// chi reports a catch-all pattern ("/*", "/v1/*") for a path that matched
	// no route; a real route never ends in one.
	if p == "" || strings.HasSuffix(p, "/*") {
		return unmatched
	}
	return p
}

// recoverer turns a panic into a logged 500 problem. http.ErrAbortHandler is
// re-raised: it is net/http's way to abort a response on purpose.
func recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(v)
			}
			writeProblem(w, r, fmt.Errorf("panic: %v\n%s", v, debug.Stack()))
		}()
		next.ServeHTTP(w, r)
	})
}

// deadline cancels each request's context after d. The server's write
// timeout alone does not: a handler would go on reading and encoding for an
// answer the connection can no longer take.
func deadline(d time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithTimeout(r.Context(), d)
			defer cancel()
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// tenantHandler serves a request on behalf of the tenant its API key
// belongs to.
type tenantHandler func(w http.ResponseWriter, r *http.Request, tenant kernel.TenantID)

// authenticated returns a wrapper of tenantHandlers that resolves the bearer
// API key to its tenant and passes it on; a missing or unknown key gets a
// 401 problem. The tenant is a parameter, not a value hidden in the context.
// The wrapper is given the query parameters its route takes: a request with
// any other, or with one of them twice, is refused by checkQuery before the
// handler runs.
func authenticated(h app.AuthenticateHandler) func(next tenantHandler, query ...string) http.HandlerFunc {
	return func(next tenantHandler, query ...string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			t, err := h.Handle(r.Context(), app.Authenticate{Key: bearer(r)})
			if err == nil {
				err = checkQuery(r.URL.RawQuery, query)
			}
			if err != nil {
				writeProblem(w, r, err)
				return
			}
			next(w, r, t)
		}
	}
}

// checkQuery refuses a query string that is malformed, names a parameter
// not in allowed, or names one twice, with a 400 naming the parameter: a
// filter the route does not know (?invoice=… on a list) would otherwise be
// ignored, and the caller would take every item for the filtered ones.
func checkQuery(raw string, allowed []string) error {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return &requestError{status: http.StatusBadRequest, code: "malformed_query", message: "the query string is not valid: " + err.Error()}
	}
	for _, name := range slices.Sorted(maps.Keys(q)) {
		switch {
		case !slices.Contains(allowed, name):
			return &requestError{status: http.StatusBadRequest, code: "unknown_parameter", field: name,
				message: fmt.Sprintf("unknown query parameter %q", name)}
		case len(q[name]) > 1:
			return &requestError{status: http.StatusBadRequest, code: "duplicate_parameter", field: name,
				message: fmt.Sprintf("query parameter %q appears more than once", name)}
		}
	}
	return nil
}

// bearer returns the token of an "Authorization: Bearer <token>" header, or "".
func bearer(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}
