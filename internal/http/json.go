package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
)

// decode reads r's JSON body into dst and returns the body as read. The body
// must be application/json (charset, if given, utf-8), at most s.maxBody
// bytes, one JSON value with no unknown fields. With optional, an absent or
// empty body leaves dst as is and needs no Content-Type. It returns a
// *requestError for a faulty body.
func (s *server) decode(w http.ResponseWriter, r *http.Request, dst any, optional bool) ([]byte, error) {
	if r.ContentLength == 0 {
		if optional {
			return nil, nil
		}
		return nil, &requestError{status: http.StatusBadRequest, code: "malformed_json", message: "a JSON request body is required"}
	}
	if err := checkContentType(r.Header.Get("Content-Type")); err != nil {
		return nil, err
	}
	// Read whole (it is bounded): an Idempotency-Key's fingerprint needs the
	// bytes, and a body over the limit is refused before any of it is parsed.
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			// The rest of the body is unread: do not reuse the connection.
			// (MaxBytesReader cannot say so itself through our wrapped writer.)
			w.Header().Set("Connection", "close")
		}
		return nil, decodeError(err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		if optional && errors.Is(err, io.EOF) {
			return raw, nil
		}
		return nil, decodeError(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		return nil, &requestError{status: http.StatusBadRequest, code: "trailing_data", message: "the request body must hold a single JSON value"}
	}
	return raw, nil
}

func checkContentType(ct string) error {
	unsupported := &requestError{status: http.StatusUnsupportedMediaType, code: "unsupported_media_type",
		message: "the request body must be application/json"}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return unsupported
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return unsupported
	}
	return nil
}

// decodeError turns an encoding/json or body-reading error into a request
// error. json.InvalidUnmarshalError is a bug here, so it is returned as is (500).
func decodeError(err error) error {
	bad := func(code, field, format string, args ...any) error {
		return &requestError{status: http.StatusBadRequest, code: code, field: field, message: fmt.Sprintf(format, args...)}
	}
	var (
		tooLarge   *http.MaxBytesError
		syntax     *json.SyntaxError
		wrongType  *json.UnmarshalTypeError
		notPointer *json.InvalidUnmarshalError
	)
	switch {
	case errors.As(err, &tooLarge):
		return &requestError{status: http.StatusRequestEntityTooLarge, code: "payload_too_large",
			message: fmt.Sprintf("the request body exceeds %d bytes", tooLarge.Limit)}
	case errors.As(err, &syntax):
		return bad("malformed_json", "", "the request body is not valid JSON (at byte %d)", syntax.Offset)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return bad("malformed_json", "", "the request body is empty or truncated JSON")
	case errors.As(err, &wrongType):
		if wrongType.Field == "" {
			return bad("wrong_type", "", "the request body must be a JSON %s", jsonType(wrongType.Type))
		}
		return bad("wrong_type", wrongType.Field, "%s must be a JSON %s, not %s", wrongType.Field, jsonType(wrongType.Type), wrongType.Value)
	case errors.As(err, &notPointer):
		return err
	}
	if field, ok := unknownField(err); ok {
		return bad("unknown_field", field, "unknown field %q", field)
	}
	return bad("malformed_json", "", "the request body could not be read")
}

// unknownField returns the field named by Decoder.DisallowUnknownFields's
// error. encoding/json has no type for that error (golang/go#29035), so its
// documented text is the only way to tell it apart.
func unknownField(err error) (string, bool) {
	rest, ok := strings.CutPrefix(err.Error(), "json: unknown field ")
	if !ok {
		return "", false
	}
	name, uerr := strconv.Unquote(rest)
	if uerr != nil {
		return rest, true
	}
	return name, true
}

// jsonType names the JSON type that decodes into t.
func jsonType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Bool:
		return "boolean"
	case reflect.String:
		return "string"
	case reflect.Slice, reflect.Array:
		return "array"
	default:
		return "object"
	}
}

// writeJSON writes v as JSON with status.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	body, err := encodeJSON(v)
	if err != nil {
		writeProblem(w, r, fmt.Errorf("encode response: %w", err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// encodeJSON returns v as JSON followed by a newline, as json.Marshal would
// encode it. Unlike appending the newline to Marshal's result, it copies a
// large body once rather than twice.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
