package invoicinghttp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// decode reads r's JSON body into dst and returns the body as read. The body
// must be application/json (charset, if given, utf-8), at most s.maxBody
// bytes, one JSON value read under strictJSON. With optional, an absent or
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
	dec := jsontext.NewDecoder(bytes.NewReader(raw), strictJSON)
	// Unmarshalled into a struct, null would read as {}: a PATCH of null
	// (RFC 7396: remove the whole target) as no change, an issue as if no
	// body were sent. Every body is an object.
	if dec.PeekKind() == 'n' {
		return nil, &requestError{status: http.StatusBadRequest, code: "wrong_type", message: "the request body must be a JSON object, not null"}
	}
	if err := json.UnmarshalDecode(dec, dst); err != nil {
		if optional && errors.Is(err, io.EOF) {
			return raw, nil
		}
		return nil, decodeError(err)
	}
	if _, err := dec.ReadValue(); !errors.Is(err, io.EOF) {
		return nil, &requestError{status: http.StatusBadRequest, code: "trailing_data", message: "the request body must hold a single JSON value"}
	}
	return raw, nil
}

// strictJSON reads a request body one way only, so that no other reader of
// the same bytes (a gateway's validator, a log processor) can take it to say
// something else: a member named twice, a member in another case than the
// API's ("Currency"), a member the request does not define, and text that is
// not UTF-8 (invalid bytes, or an escaped lone surrogate) are each an error,
// never a guess. All but RejectUnknownMembers are encoding/json/v2's
// defaults, spelled out so that no change of defaults loosens them.
var strictJSON = json.JoinOptions(
	jsontext.AllowDuplicateNames(false),
	jsontext.AllowInvalidUTF8(false),
	json.MatchCaseInsensitiveNames(false),
	json.RejectUnknownMembers(true),
)

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

// decodeError turns a body-reading or decoding error into a request error
// naming the member at fault, as the API names fields ("lines[0].quantity").
// An error of another kind (dst is not a pointer) is a bug here, so it is
// returned as is (500).
func decodeError(err error) error {
	bad := func(code, field, format string, args ...any) error {
		return &requestError{status: http.StatusBadRequest, code: code, field: field, message: fmt.Sprintf(format, args...)}
	}
	var (
		tooLarge *http.MaxBytesError
		syntax   *jsontext.SyntacticError
		semantic *json.SemanticError
	)
	switch {
	case errors.As(err, &tooLarge):
		return &requestError{status: http.StatusRequestEntityTooLarge, code: "payload_too_large",
			message: fmt.Sprintf("the request body exceeds %d bytes", tooLarge.Limit)}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return bad("malformed_json", "", "the request body is empty or truncated JSON")
	case errors.As(err, &syntax) && errors.Is(syntax.Err, jsontext.ErrDuplicateName):
		field := fieldOf(syntax.JSONPointer, true)
		return bad("duplicate_field", field, "field %q appears more than once", field)
	case errors.As(err, &syntax):
		field := fieldOf(syntax.JSONPointer, false)
		if field == "" {
			return bad("malformed_json", "", "the request body is not valid JSON (at byte %d: %v)", syntax.ByteOffset, syntax.Err)
		}
		return bad("malformed_json", field, "the request body is not valid JSON (at byte %d, in %s: %v)", syntax.ByteOffset, field, syntax.Err)
	case errors.As(err, &semantic) && errors.Is(semantic.Err, json.ErrUnknownName):
		field := fieldOf(semantic.JSONPointer, true)
		return bad("unknown_field", field, "unknown field %q", field)
	case errors.As(err, &semantic) && semantic.GoType != nil:
		field := fieldOf(semantic.JSONPointer, false)
		if field == "" {
			return bad("wrong_type", "", "the request body must be a JSON %s", jsonType(semantic.GoType))
		}
		return bad("wrong_type", field, "%s must be a JSON %s, not %s", field, jsonType(semantic.GoType), jsonKind(semantic.JSONKind))
	case errors.As(err, &semantic):
		return err
	}
	return bad("malformed_json", "", "the request body could not be read")
}

// fieldOf names the member p points to as the API names fields:
// "/lines/0/quantity" is "lines[0].quantity". No request object has a member
// whose name is a number, so a number is an index, except in the last token
// when the error is about that member's name (nameLast): an unknown "0" is
// "customer.0", not "customer[0]".
func fieldOf(p jsontext.Pointer, nameLast bool) string {
	var b strings.Builder
	i, n := 0, strings.Count(string(p), "/") // "/" in a name is escaped as "~1"
	for tok := range p.Tokens() {
		i++
		_, numErr := strconv.ParseUint(tok, 10, 64)
		switch {
		case numErr == nil && !(nameLast && i == n):
			b.WriteString("[" + tok + "]")
		case b.Len() > 0:
			b.WriteString("." + tok)
		default:
			b.WriteString(tok)
		}
	}
	return b.String()
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

// jsonKind names the kind of a JSON value as jsonType does. A number that
// does not fit the integer (a fraction, an exponent, too large) is "number".
func jsonKind(k jsontext.Kind) string {
	switch k {
	case '"':
		return "string"
	case '0':
		return "number"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	case '[':
		return "array"
	default:
		return "object"
	}
}

// invoiceCommand is a request body that becomes a command on one invoice.
type invoiceCommand[C any] interface {
	command(kernel.TenantID, invoice.ID) (C, error)
}

// decodeInvoiceCommand reads the invoice id from the path and the body into
// an R, and returns the command the body makes and the body itself (an
// Idempotency-Key's fingerprint covers it). On any failure it has written
// the problem and returns ok false.
func decodeInvoiceCommand[C any, R invoiceCommand[C]](s *server, w http.ResponseWriter, r *http.Request,
	tenant kernel.TenantID) (cmd C, body []byte, ok bool) {
	id, err := invoiceID(r)
	if err != nil {
		writeProblem(w, r, err)
		return cmd, nil, false
	}
	var req R
	if body, err = s.decode(w, r, &req, false); err != nil {
		writeProblem(w, r, err)
		return cmd, nil, false
	}
	if cmd, err = req.command(tenant, id); err != nil {
		writeProblem(w, r, err)
		return cmd, nil, false
	}
	return cmd, body, true
}
