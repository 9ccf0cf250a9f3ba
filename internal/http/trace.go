package http

import (
	"net/http"
	"strings"
)

// maxTraceState bounds the tracestate kept; W3C Trace Context asks vendors to
// propagate at least 512 characters.
const maxTraceState = 512

// traceContext returns the request's W3C trace context, the traceparent and
// tracestate headers, or two empty strings if traceparent is missing,
// repeated or malformed: a bad header is ignored, never an error. tracestate
// is kept only beside a valid traceparent and only if it is at most 512
// visible ASCII characters (repeated headers joined with commas, as the
// specification says).
func traceContext(h http.Header) (traceParent, traceState string) {
	values := h.Values("Traceparent")
	if len(values) != 1 {
		return "", ""
	}
	traceParent, ok := parseTraceParent(values[0])
	if !ok {
		return "", ""
	}
	traceState = strings.Join(h.Values("Tracestate"), ",")
	if len(traceState) > maxTraceState || !printable(traceState) {
		traceState = ""
	}
	return traceParent, traceState
}

// parseTraceParent validates a W3C traceparent, version-traceid-parentid-flags
// in lowercase hex ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").
// Version ff, an all-zero trace or parent id are invalid. A version above 00
// may append fields after a dash; only the four fields this version defines
// are kept, as the specification tells a parser of an older version to do.
func parseTraceParent(v string) (string, bool) {
	const n = 55 // 2 + 1 + 32 + 1 + 16 + 1 + 2
	if len(v) < n || (len(v) > n && (v[:2] == "00" || v[n] != '-')) {
		return "", false
	}
	v = v[:n]
	if v[2] != '-' || v[35] != '-' || v[52] != '-' {
		return "", false
	}
	version, traceID, parentID, flags := v[:2], v[3:35], v[36:52], v[53:]
	if !lowerHex(version) || version == "ff" || !lowerHex(traceID) || !lowerHex(parentID) || !lowerHex(flags) ||
		strings.Trim(traceID, "0") == "" || strings.Trim(parentID, "0") == "" {
		return "", false
	}
	return v, true
}

// traceID returns the trace id of a valid traceparent.
func traceID(traceParent string) string { return traceParent[3:35] }

func lowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
