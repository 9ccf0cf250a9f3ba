package notifypg_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// hangingReceiver answers no request until released (or the request is
// given up), and counts what it holds.
type hangingReceiver struct {
	*httptest.Server
	release chan struct{}

	mu                      sync.Mutex
	arrived, ended, maxHeld int
}

func newHangingReceiver(t *testing.T) *hangingReceiver {
	r := &hangingReceiver{release: make(chan struct{})}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		// Read to the end, so the server notices the client giving up.
		_, _ = io.Copy(io.Discard, req.Body)
		r.mu.Lock()
		r.arrived++
		r.maxHeld = max(r.maxHeld, r.arrived-r.ended)
		r.mu.Unlock()
		select {
		case <-r.release:
		case <-req.Context().Done():
		}
		r.mu.Lock()
		r.ended++
		r.mu.Unlock()
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	// Cleanups run last first: the handlers return before Close waits
	// for them.
	t.Cleanup(r.Close)
	t.Cleanup(func() { close(r.release) })
	return r
}

// counts returns the requests that arrived, those that ended, and the most
// held at once.
func (r *hangingReceiver) counts() (arrived, ended, maxHeld int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.arrived, r.ended, r.maxHeld
}
