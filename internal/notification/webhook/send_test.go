package webhook_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/invoicing-dev/invoicing/internal/notification/webhook"
)

// TestSenderCapsResponseHeaders: a receiver on loopback answers 200 with
// 9 headers of 1 MiB each. The attempt fails with the transport's error,
// having read little of them: without a cap Go reads up to 10 MB of
// headers per response, in every worker waiting on such a receiver.
func TestSenderCapsResponseHeaders(t *testing.T) {
	big := strings.Repeat("x", 1<<20)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := range 9 {
			w.Header().Set(fmt.Sprintf("X-Big-%d", i), big)
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer rcv.Close()
	s := webhook.NewSender(webhook.SenderConfig{Timeout: 5 * time.Second, Policy: webhook.Policy{AllowPrivate: true}})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r, err := s.Send(context.Background(), webhook.Message{URL: rcv.URL, ID: "m", Body: []byte("{}"), Secrets: []string{webhook.NewSecret()}})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if r.OK() || r.StatusCode != 0 || !strings.Contains(r.Error, "header") {
		t.Errorf("%+v, want a failed attempt naming the headers", r)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("the attempt allocated %d KiB, want the headers left unread", n>>10)
	}
}

// TestSenderSendsTraceContext: the message's W3C trace context arrives in
// the traceparent and tracestate headers, and none is made up without one.
func TestSenderSendsTraceContext(t *testing.T) {
	got := make(chan http.Header, 2)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got <- r.Header.Clone() }))
	defer rcv.Close()
	s := webhook.NewSender(webhook.SenderConfig{Timeout: 5 * time.Second, Policy: webhook.Policy{AllowPrivate: true}})
	const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	for _, m := range []webhook.Message{
		{TraceParent: parent, TraceState: "vendor=opaque"},
		{},
	} {
		m.URL, m.ID, m.Body, m.Secrets = rcv.URL, "m", []byte("{}"), []string{webhook.NewSecret()}
		if r, err := s.Send(context.Background(), m); err != nil || !r.OK() {
			t.Fatalf("%+v %v", r, err)
		}
		h := <-got
		if h.Get("traceparent") != m.TraceParent || h.Get("tracestate") != m.TraceState {
			t.Errorf("traceparent %q, tracestate %q; want %q, %q", h.Get("traceparent"), h.Get("tracestate"), m.TraceParent, m.TraceState)
		}
	}
}

// TestSenderKeepsAReceiversTextPrintable: whatever bytes a receiver
// answers with, in a response body or as a broken response, the Result's
// error is valid UTF-8 without NUL, as a PostgreSQL text column takes.
func TestSenderKeepsAReceiversTextPrintable(t *testing.T) {
	body := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte("bad\x00gateway \xff\xfe"))
	}))
	defer body.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 4096)
			_, _ = c.Read(buf)
			_, _ = c.Write([]byte("HTTP/1.1 5\x00\xff garbage\r\n\r\n"))
			c.Close()
		}
	}()
	s := webhook.NewSender(webhook.SenderConfig{Timeout: 5 * time.Second, Policy: webhook.Policy{AllowPrivate: true}})
	for name, url := range map[string]string{"a body": body.URL, "a broken response": "http://" + ln.Addr().String()} {
		r, err := s.Send(context.Background(), webhook.Message{URL: url, ID: "m", Body: []byte("{}"), Secrets: []string{webhook.NewSecret()}})
		if err != nil || r.OK() || r.Error == "" {
			t.Fatalf("%s: %+v, %v; want a failed attempt", name, r, err)
		}
		if strings.ContainsRune(r.Error, 0) || !utf8.ValidString(r.Error) {
			t.Errorf("%s: error %q, want valid UTF-8 without NUL", name, r.Error)
		}
	}
}
