package webhook_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

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
