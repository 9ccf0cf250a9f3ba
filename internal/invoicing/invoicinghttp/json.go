package invoicinghttp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
)

// writeJSON writes v as JSON with status.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	body, err := encodeJSON(v)
	if err != nil {
		writeProblem(w, r, fmt.Errorf("encode response: %w", err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// encodeJSON returns v as JSON followed by a newline, as json.Marshal would
// encode it but without HTML escaping: a response is JSON, served with
// nosniff, and `<` as `\u003c` would take six bytes for one and make the
// feed's CloudEvents differ from the bytes on NATS. Unlike appending the
// newline to Marshal's result, it copies a large body once rather than twice.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
