package webhook

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// tlsReceiver starts an HTTP/2 receiver on loopback serving h and returns
// it with a Sender that trusts its certificate.
func tlsReceiver(t *testing.T, h http.HandlerFunc) (*httptest.Server, *Sender) {
	t.Helper()
	rcv := httptest.NewUnstartedServer(h)
	rcv.EnableHTTP2 = true
	rcv.StartTLS()
	t.Cleanup(rcv.Close)
	s := NewSender(SenderConfig{Timeout: 5 * time.Second, Policy: Policy{AllowPrivate: true}})
	s.client.Transport.(*http.Transport).TLSClientConfig = rcv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	return rcv, s
}

// TestSenderCapsResponseHeadersOverHTTP2: the header cap holds over
// HTTP/2 too, where it is the header list size the client announces.
func TestSenderCapsResponseHeadersOverHTTP2(t *testing.T) {
	big := strings.Repeat("x", 1<<20)
	rcv, s := tlsReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		for i := range 9 {
			w.Header().Set(fmt.Sprintf("X-Big-%d", i), big)
		}
		w.WriteHeader(http.StatusOK)
	})
	r, err := s.Send(context.Background(), Message{URL: rcv.URL, ID: "m", Body: []byte("{}"), Secrets: []string{NewSecret()}})
	if err != nil || r.OK() || r.StatusCode != 0 || r.Error == "" {
		t.Errorf("%+v %v, want a failed attempt", r, err)
	}
}

// TestSenderBoundsHTTP2Buffering: over HTTP/2 a receiver may send as much
// of a response as the client's flow-control window allows before the
// client reads it. A loopback receiver answers 400 with 8 MiB of body and
// counts what it managed to write before the attempt, having read its
// 1 KiB, reset the stream. (Internal tests: they trust the receiver's
// certificate on the Sender's own transport.)
func TestSenderBoundsHTTP2Buffering(t *testing.T) {
	chunk := make([]byte, 16<<10)
	sent := make(chan int, 1)
	rcv, s := tlsReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		n := 0
		defer func() { sent <- n }()
		for range 512 {
			m, err := w.Write(chunk)
			n += m
			if err != nil {
				return
			}
			w.(http.Flusher).Flush()
		}
	})
	most := 0
	for range 5 {
		r, err := s.Send(context.Background(), Message{URL: rcv.URL, ID: "m", Body: []byte("{}"), Secrets: []string{NewSecret()}})
		if err != nil || r.StatusCode != http.StatusBadRequest {
			t.Fatalf("%+v %v, want the 400", r, err)
		}
		select {
		case n := <-sent:
			most = max(most, n)
		case <-time.After(10 * time.Second):
			t.Fatal("the receiver is still writing 10s after the attempt")
		}
	}
	if most > 2*http2Window {
		t.Errorf("the receiver wrote up to %d KiB of a response per attempt, want at most about %d KiB", most>>10, http2Window>>10)
	}
}
