package faulttest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// opTimeout bounds one request with all its retries. Every fault the suite
// injects heals within seconds, so an operation that needs longer is a
// finding (counted as given up).
const opTimeout = 90 * time.Second

// client is one tenant's API client over every serve process. Each change is
// a POST with an Idempotency-Key, retried with the same key and body on
// network errors, 5xx and the 409 that means "try again"
// (idempotency_key_in_use), against a random serve each
// time, so a retry after a killed serve goes to the other one or to the
// restarted one.
type client struct {
	http   *http.Client
	bases  []string // http://127.0.0.1:port of each serve
	key    string
	tenant string
	stats  *stats
}

// stats are the client-side figures of a run; every field is atomic.
type stats struct {
	requests, retriesNet, retries5xx, retriesInUse atomic.Int64
	replayed, gaveUp, unexpected                   atomic.Int64

	mu          sync.Mutex
	unexpectedS []string    // the first few unexpected answers
	failures    []attemptAt // every attempt that failed for the service's sake (network error, 5xx)
}

// attemptAt is a failed attempt: when, and its status (0: a network error)
// and problem type.
type attemptAt struct {
	at      time.Time
	status  int
	problem string
}

func (s *stats) failed(a attemptAt) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, a)
}

// failuresBetween returns the failed attempts from since to until.
func (s *stats) failuresBetween(since, until time.Time) []attemptAt {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []attemptAt
	for _, f := range s.failures {
		if !f.at.Before(since) && f.at.Before(until) {
			out = append(out, f)
		}
	}
	return out
}

func (s *stats) unexpectedAnswer(format string, args ...any) {
	s.unexpected.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.unexpectedS) < 10 {
		s.unexpectedS = append(s.unexpectedS, fmt.Sprintf(format, args...))
	}
}

// answer is an HTTP response as the suite reads it.
type answer struct {
	status int
	body   []byte
}

// problemType returns the problem code of a problem+json answer, "" if the
// answer is not a problem.
func (a answer) problemType() string {
	var p struct {
		Type string `json:"type"`
	}
	if a.status < 400 || json.Unmarshal(a.body, &p) != nil {
		return ""
	}
	return strings.TrimPrefix(p.Type, "urn:invoicing:problem:")
}

// invoiceJSON is the part of an invoice response the suite reads.
type invoiceJSON struct {
	ID         string  `json:"id"`
	Number     *string `json:"number"`
	Status     string  `json:"status"`
	Total      int64   `json:"total"`
	AmountPaid int64   `json:"amount_paid"`
	AmountDue  int64   `json:"amount_due"`
	Version    int64   `json:"version"`
}

// post sends body (nil: none) to path with a fresh Idempotency-Key and
// returns the first answer that is not worth retrying. It fails only if
// opTimeout or ctx ends first.
func (c *client) post(ctx context.Context, path string, body []byte) (answer, error) {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	key := uuid.NewString()
	var last string
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			backoff := min(20*time.Millisecond<<min(attempt, 10), time.Second)
			sleep(ctx, backoff/2+rand.N(backoff/2+1))
		}
		if ctx.Err() != nil {
			c.stats.gaveUp.Add(1)
			return answer{}, fmt.Errorf("POST %s: gave up after %d attempts: %s", path, attempt, last)
		}
		a, err := c.once(ctx, c.bases[rand.IntN(len(c.bases))]+path, key, body)
		switch {
		case err != nil:
			c.stats.retriesNet.Add(1)
			c.stats.failed(attemptAt{at: time.Now()})
			last = err.Error()
			continue
		case a.status >= 500:
			c.stats.retries5xx.Add(1)
			c.stats.failed(attemptAt{at: time.Now(), status: a.status, problem: a.problemType()})
			last = fmt.Sprintf("%d %s", a.status, a.body)
			continue
		case a.status == http.StatusConflict && a.problemType() == "idempotency_key_in_use":
			c.stats.retriesInUse.Add(1)
			last = "409 idempotency_key_in_use"
			continue
		}
		return a, nil
	}
}

// once sends one attempt.
func (c *client) once(ctx context.Context, url, key string, body []byte) (answer, error) {
	c.stats.requests.Add(1)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Idempotency-Key", key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.http.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return answer{}, err
	}
	if res.Header.Get("Idempotent-Replayed") == "true" {
		c.stats.replayed.Add(1)
	}
	return answer{status: res.StatusCode, body: b}, nil
}

// postInvoice is post for a change whose success answer is an invoice with
// status want. Any other answer fails it.
func (c *client) postInvoice(ctx context.Context, path string, body []byte, want int) (invoiceJSON, error) {
	a, err := c.post(ctx, path, body)
	if err != nil {
		return invoiceJSON{}, err
	}
	if a.status != want {
		c.stats.unexpectedAnswer("POST %s: %d %s", path, a.status, a.body)
		return invoiceJSON{}, fmt.Errorf("POST %s: got %d %s, want %d", path, a.status, a.body, want)
	}
	var inv invoiceJSON
	if err := json.Unmarshal(a.body, &inv); err != nil || inv.ID == "" {
		return invoiceJSON{}, errors.Join(fmt.Errorf("POST %s: %d answer is not an invoice: %s", path, a.status, a.body), err)
	}
	return inv, nil
}

// ledger is what clients were told: the changes acknowledged with a 2xx,
// which must all be in the database afterwards.
type ledger struct {
	mu       sync.Mutex
	created  map[string]string       // invoice id → tenant (201 to a create)
	numbers  map[string]string       // invoice id → number (200 to an issue)
	payments map[paymentKey]struct{} // (invoice, reference, amount) of 200s to a payment
	paid     map[string]bool         // invoices a client saw paid
}

type paymentKey struct {
	invoice, reference string
	amount             int64
}

func newLedger() *ledger {
	return &ledger{created: map[string]string{}, numbers: map[string]string{},
		payments: map[paymentKey]struct{}{}, paid: map[string]bool{}}
}

func (l *ledger) create(id, tenant string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.created[id] = tenant
}

func (l *ledger) issue(id, number string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.numbers[id] = number
}

func (l *ledger) pay(inv invoiceJSON, reference string, amount int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.payments[paymentKey{inv.ID, reference, amount}] = struct{}{}
	if inv.Status == "paid" {
		l.paid[inv.ID] = true
	}
}

func (l *ledger) paymentCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.payments)
}
