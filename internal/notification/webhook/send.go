package webhook

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxResponseBody is how much of a receiver's response is read and kept in
// the delivery log; the rest is discarded.
const MaxResponseBody = 1 << 10

// MaxResponseHeader bounds the response headers read per attempt; a
// response with more fails the attempt unread. Go's default (10 MB) is a
// receiver's to fill, once per worker. Webhook receivers answer with a
// status and a few headers; only Retry-After is read.
const MaxResponseHeader = 16 << 10

// http2Window is the HTTP/2 flow-control window of a response, per stream
// and per connection: how much a receiver may send ahead of the attempt's
// reading. An attempt reads 1 KiB of the body and drops the rest; Go's
// default window (4 MiB a stream) would let every worker's receiver park
// that much in memory first.
const http2Window = 64 << 10

// SenderConfig configures a Sender. Zero fields take the defaults noted.
type SenderConfig struct {
	// Timeout bounds one attempt, from connecting to the response's end.
	// Default 15s.
	Timeout time.Duration
	// Policy says which addresses may be connected to.
	Policy Policy
	// UserAgent of the requests. Default "invoicing-webhooks/1".
	UserAgent string
}

// Sender posts deliveries, one attempt at a time.
type Sender struct {
	client *http.Client
	cfg    SenderConfig
}

// NewSender returns a Sender. Its client follows no redirect and connects
// only where cfg.Policy allows.
func NewSender(cfg SenderConfig) *Sender {
	cfg.Timeout = cmp.Or(cfg.Timeout, 15*time.Second)
	cfg.UserAgent = cmp.Or(cfg.UserAgent, "invoicing-webhooks/1")
	tr := &http.Transport{
		DialContext:            cfg.Policy.DialContext(&net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}),
		TLSHandshakeTimeout:    cfg.Timeout,
		ResponseHeaderTimeout:  cfg.Timeout,
		MaxResponseHeaderBytes: MaxResponseHeader,
		MaxIdleConnsPerHost:    16,
		IdleConnTimeout:        90 * time.Second,
		ForceAttemptHTTP2:      true,
		HTTP2:                  &http.HTTP2Config{MaxReceiveBufferPerStream: http2Window, MaxReceiveBufferPerConnection: http2Window},
	}
	return &Sender{cfg: cfg, client: &http.Client{
		Transport: tr,
		Timeout:   cfg.Timeout,
		// A redirect is an answer, not an instruction: it could point
		// anywhere, past the address checks' intent.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Timeout returns the bound on one attempt.
func (s *Sender) Timeout() time.Duration { return s.cfg.Timeout }

// Message is one delivery to send.
type Message struct {
	URL     string
	ID      string // webhook-id: the event id
	Body    []byte // the CloudEvent as published
	Secrets []string
	// TraceParent and TraceState are the W3C trace context the request
	// carries in its traceparent and tracestate headers (none if empty),
	// so that the receiver's trace joins the event's.
	TraceParent, TraceState string
}

// Result is the outcome of one attempt.
type Result struct {
	At         time.Time
	StatusCode int // 0 if no response
	Duration   time.Duration
	// Error says why the attempt failed ("" on success): the transport's
	// error or the start of the response body.
	Error string
	// RetryAfter is the wait a 429 or 503 asked for (0 if none).
	RetryAfter time.Duration
}

// OK reports whether the receiver accepted the delivery (2xx).
func (r Result) OK() bool { return r.StatusCode >= 200 && r.StatusCode < 300 }

// Send posts m once, signed at now, and returns what happened. It returns
// an error only if m cannot be signed; a failed attempt is a Result.
func (s *Sender) Send(ctx context.Context, m Message) (Result, error) {
	now := time.Now()
	sig, err := Sign(m.Secrets, m.ID, now, m.Body)
	if err != nil {
		return Result{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.URL, bytes.NewReader(m.Body))
	if err != nil {
		return Result{At: now, Error: "invalid URL: " + err.Error()}, nil
	}
	req.Header.Set("Content-Type", "application/cloudevents+json")
	req.Header.Set("User-Agent", s.cfg.UserAgent)
	req.Header.Set(HeaderID, m.ID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(HeaderSignature, sig)
	if m.TraceParent != "" {
		req.Header.Set("traceparent", m.TraceParent)
		if m.TraceState != "" {
			req.Header.Set("tracestate", m.TraceState)
		}
	}
	resp, err := s.client.Do(req)
	res := Result{At: now}
	if err != nil {
		res.Duration = time.Since(now)
		res.Error = printable(describe(err))
		return res, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBody))
	res.Duration, res.StatusCode = time.Since(now), resp.StatusCode
	if !res.OK() {
		res.Error = fmt.Sprintf("HTTP %d: %s", resp.StatusCode, printable(string(body)))
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			res.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
		}
	}
	return res, nil
}

// printable returns s, which a receiver chose, as text PostgreSQL and the
// logs take: invalid UTF-8 and NUL, which a text column refuses, become
// U+FFFD.
func printable(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// describe returns a transport error's text, naming a refused address.
func describe(err error) string {
	if errors.Is(err, ErrForbiddenAddress) {
		return "refused: the URL resolves to an address webhooks may not reach (" + err.Error() + ")"
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	return err.Error()
}

// retryAfter reads a Retry-After header: seconds or an HTTP date. It
// returns 0 if v is neither.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
