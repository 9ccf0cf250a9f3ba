package webhook_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/invoicing-dev/invoicing/internal/notification/webhook"
)

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
